"""The administrators' forms (Flask-WTF): users, agencies, each channel's registrable targets (built from its
TargetKinds) and the recipients file. They check what a browser sends; the rules behind them are the domain's
(directory.py, security/accounts.py, services/recipients_import.py), which the `flask` commands share."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import directory
from ..channels.catalog import target_kinds
from ..channels.spec import FormField, TargetKind
from ..extensions import db
from ..hazards import catalogue
from ..models import ALL_HAZARDS, AgencyKind, County, Role
from ..models.user import MIN_PASSWORD_LENGTH
from ..registration import MAX_NAME
from ..security.accounts import MAX_USERNAME
from .forms import ConsoleForm, MultiCheckboxField
from .i18n import hazard_name
from .labels import LABELS

MAX_SENDERS_TEXT = 20 * (directory.MAX_SENDER + 1)


class UserForm(ConsoleForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=MAX_USERNAME)])
    role = SelectField(_l("Role"), choices=[SelectChoice(role.value, label) for role, label in LABELS[Role].items()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)])


class RoleForm(ConsoleForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(role.value, label) for role, label in LABELS[Role].items()])


class PasswordForm(ConsoleForm):
    password = PasswordField(_l("New password"),
                             validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)])


class AgencyForm(ConsoleForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=directory.MAX_AGENCY_NAME)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(kind.value, label) for kind, label in LABELS[AgencyKind].items()])
    hazards = MultiCheckboxField(_l("Hazards it may issue"))  # none ticked: the directory says so (a required
    # attribute here would make the browser demand every box)
    auto_publish = BooleanField(_l("Publishes at once, without a duty officer (earthquake early warning)"))
    senders = TextAreaField(_l("CAP senders it posts as, one per line; the first is its JSON alerts' default "
                               "(empty: made up, or kept)"),
                            validators=[Optional(), Length(max=MAX_SENDERS_TEXT)])

    def offer(self) -> AgencyForm:
        self.hazards.choices = [SelectChoice(ALL_HAZARDS, _("all hazards"))] + [
            SelectChoice(hazard.code, hazard_name(hazard.code)) for hazard in catalogue()]
        return self


class PlaceForm(ConsoleForm):
    """What every kind of target has: a county, a name and the exercise mark."""

    county = SelectField(_l("County"), validators=[DataRequired()])
    name = StringField(_l("Name (empty: from the county)"), validators=[Optional(), Length(max=MAX_NAME)])
    exercise = BooleanField(_l("Exercise target: receives Exercise and Test alerts"))

    def offer(self) -> PlaceForm:
        self.county.choices = [SelectChoice(county.code, f"{county.code} {county.name_zh}")
                               for county in db.session.scalars(select(County).order_by(County.code))]
        return self


def _form_field(field: FormField):
    """A kind's own field as WTForms has it; its label translated when shown."""
    label = _l(field.label)
    if field.kind == "flag":
        return BooleanField(label)
    validators = [DataRequired() if field.required else Optional()]
    if field.max_length is not None:
        validators.append(Length(max=field.max_length))
    return (PasswordField if field.kind == "secret" else StringField)(label, validators=validators)


def _target_form(kind: TargetKind) -> type[PlaceForm]:
    """The admin form of a kind of target: the place fields, then its own, prefixed with its path
    ("broadcast-url"), as the kinds share the endpoints page."""

    class TargetForm(PlaceForm):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, prefix=kind.path, **kwargs)

    for field in kind.fields:
        setattr(TargetForm, field.name, _form_field(field))
    return TargetForm


# Each registrable kind's form, by its path (channels/catalog.py target_kinds).
TARGET_FORMS: dict[str, type[PlaceForm]] = {kind.path: _target_form(kind) for kind in target_kinds()}


class ImportForm(ConsoleForm):
    file = FileField(_l("Recipients file (CSV)"), validators=[FileRequired()])
