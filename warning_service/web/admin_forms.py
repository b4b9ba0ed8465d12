"""The administrators' forms (Flask-WTF): users, agencies, county broadcast endpoints, BeiDou terminals and
the recipients file. They check what a browser sends; the rules behind them are the domain's (registry.py,
security/accounts.py, services/recipients_import.py), which the `flask` commands share."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import registry
from ..extensions import db
from ..hazards import catalogue
from ..models import ALL_HAZARDS, AgencyKind, County, Role
from ..models.user import MIN_PASSWORD_LENGTH
from ..security.accounts import MAX_USERNAME
from .forms import ConsoleForm, MultiCheckboxField
from .i18n import hazard_name
from .labels import LABELS

MAX_SENDERS_TEXT = 20 * (registry.MAX_SENDER + 1)


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
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=registry.MAX_AGENCY_NAME)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(kind.value, label) for kind, label in LABELS[AgencyKind].items()])
    hazards = MultiCheckboxField(_l("Hazards it may issue"))  # none ticked: the registry says so (a required
    # attribute here would make the browser demand every box)
    auto_publish = BooleanField(_l("Publishes at once, without a duty officer (earthquake early warning)"))
    senders = TextAreaField(_l("CAP senders it posts as, one per line; the first is its JSON alerts' default "
                               "(empty: made up, or kept)"),
                            validators=[Optional(), Length(max=MAX_SENDERS_TEXT)])

    def offer(self) -> AgencyForm:
        self.hazards.choices = [SelectChoice(ALL_HAZARDS, _("all hazards"))] + [
            SelectChoice(hazard.code, hazard_name(hazard.code)) for hazard in catalogue()]
        return self


class _PlaceForm(ConsoleForm):
    county = SelectField(_l("County"), validators=[DataRequired()])
    name = StringField(_l("Name (empty: from the county)"), validators=[Optional(), Length(max=registry.MAX_NAME)])
    exercise = BooleanField(_l("Exercise target: receives Exercise and Test alerts"))

    def offer(self) -> _PlaceForm:
        self.county.choices = [SelectChoice(county.code, f"{county.code} {county.name_zh}")
                               for county in db.session.scalars(select(County).order_by(County.code))]
        return self


class BroadcastForm(_PlaceForm):
    """Prefixed ("broadcast-url"), as it shares a page with the BeiDou form."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, prefix="broadcast", **kwargs)

    url = StringField(_l("URL of the platform"), validators=[DataRequired(), Length(max=registry.MAX_URL)])
    secret = PasswordField(_l("Signing secret (empty: generated and shown once; when editing: kept)"),
                           validators=[Optional(), Length(max=500)])
    generate_secret = BooleanField(_l("Generate a new signing secret"))


class BeidouForm(_PlaceForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, prefix="beidou", **kwargs)

    card = StringField(_l("Card address (7 digits)"), validators=[DataRequired(), Length(max=7)])
    township = StringField(_l("Township code (12 digits, optional)"), validators=[Optional(), Length(max=12)])
    is_group = BooleanField(_l("Group (broadcast) address"))


class ImportForm(ConsoleForm):
    file = FileField(_l("Recipients file (CSV)"), validators=[FileRequired()])
