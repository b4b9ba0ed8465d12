"""The administrators' pages: console users, agencies' API keys, and recipients imported from CSV.

Only admins; every change is in the audit log. A new key is shown once, in the
response itself (never in a redirect's flash, which travels in the cookie). A
recipients file is imported whole or not at all: one bad line and nothing
changes, with every problem listed. (Registering agencies, broadcast endpoints
and BeiDou terminals is done with `flask agency ...` and `flask endpoints ...` for now.)
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..audit.events import record
from ..extensions import db
from ..models import Agency, ApiKey, BeidouTerminal, County, Recipient, Role, User
from ..models.user import MIN_PASSWORD_LENGTH
from ..security.api_keys import issue_agency_key, revoke_agency_key
from ..targeting.recipients_csv import RecipientRow, parse_recipients_csv
from .auth import roles_required

admin = Blueprint("admin", __name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SHOWN_PROBLEMS = 50
LOOKUP_CHUNK = 1000


class UserForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=80)])
    role = SelectField("role", choices=[SelectChoice(role.value, role.value) for role in Role])
    password = PasswordField("password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)])


class ImportForm(FlaskForm):
    file = FileField("file", validators=[FileRequired()])


def _page(user_form: UserForm | None = None, import_form: ImportForm | None = None, problems: list[str] = (),
          new_key: tuple[Agency, str] | None = None):
    users = db.session.scalars(select(User).order_by(User.username)).all()
    agencies = db.session.scalars(select(Agency).order_by(Agency.name)).all()
    per_county = dict(db.session.execute(select(Recipient.county_code, func.count())
                                         .where(Recipient.active.is_(True)).group_by(Recipient.county_code)).all())
    counties = db.session.scalars(select(County).order_by(County.code)).all()
    return render_template("admin/index.html", users=users, agencies=agencies, counties=counties,
                           per_county=per_county, user_form=user_form or UserForm(),
                           import_form=import_form or ImportForm(), problems=list(problems), new_key=new_key)


@admin.get("/")
@roles_required(Role.ADMIN)
def index():
    return _page()


@admin.post("/users")
@roles_required(Role.ADMIN)
def create_user():
    form = UserForm()
    if not form.validate_on_submit():
        return _page(user_form=form), 422
    username = form.username.data.strip()
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        return _page(user_form=form, problems=[_("A user named %(name)s already exists.", name=username)]), 422
    user = User(username=username, role=Role(form.role.data))
    user.set_password(form.password.data)
    db.session.add(user)
    db.session.flush()
    record(db.session, current_user, "user.create", user, via="console", username=username, role=user.role.value)
    db.session.commit()
    flash(_("User %(name)s created.", name=username), "ok")
    return redirect(url_for("admin.index"), 303)


@admin.post("/users/<int:user_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate_user(user_id: int):
    user = db.session.get(User, user_id)
    if user is None or user.id == current_user.id:
        return _page(problems=[_("That user cannot be deactivated here.")]), 422
    user.active = False
    record(db.session, current_user, "user.deactivate", user, via="console")
    db.session.commit()
    flash(_("User %(name)s deactivated.", name=user.username), "ok")
    return redirect(url_for("admin.index"), 303)


@admin.post("/agencies/<int:agency_id>/keys")
@roles_required(Role.ADMIN)
def issue_key(agency_id: int):
    """A new key for the agency, shown once on this page; older keys stay live until revoked."""
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        abort(404, f"No agency {agency_id}.")
    plaintext = issue_agency_key(db.session, agency, current_user._get_current_object(), via="console")
    db.session.commit()
    response = _page(new_key=(agency, plaintext))
    return response, 201, {"Cache-Control": "no-store"}


@admin.post("/keys/<int:key_id>/revoke")
@roles_required(Role.ADMIN)
def revoke_key(key_id: int):
    key = db.session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return _page(problems=[_("That key does not exist or is already revoked.")]), 422
    revoke_agency_key(db.session, key, current_user._get_current_object(), via="console")
    db.session.commit()
    flash(_("Key %(prefix)s of %(agency)s revoked.", prefix=key.prefix, agency=key.agency.name), "ok")
    return redirect(url_for("admin.index"), 303)


@admin.post("/recipients/import")
@roles_required(Role.ADMIN)
def import_recipients():
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(import_form=form), 422
    data = form.file.data.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _page(problems=[_("The file is larger than 20 MB; split it.")]), 413
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _page(problems=[_("The file is not UTF-8 text; save the CSV as UTF-8.")]), 422
    cards = dict(db.session.execute(select(BeidouTerminal.card_address, BeidouTerminal.id)).all())
    counties = set(db.session.scalars(select(County.code)))
    rows, problems = parse_recipients_csv(text, counties, cards)
    if problems:
        shown = problems[:SHOWN_PROBLEMS]
        if len(problems) > SHOWN_PROBLEMS:
            shown.append(_("… and %(more)d more problems.", more=len(problems) - SHOWN_PROBLEMS))
        return _page(problems=[_("Nothing was imported.")] + shown), 422
    added, updated = _store(rows, cards)
    record(db.session, current_user, "recipients.import", None, via="console", added=added, updated=updated,
           filename=form.file.data.filename)
    db.session.commit()
    flash(_("Imported: %(added)d new recipients, %(updated)d updated.", added=added, updated=updated), "ok")
    return redirect(url_for("admin.index"), 303)


def _store(rows: list[RecipientRow], cards: dict[str, int]) -> tuple[int, int]:
    """Insert new phones, update known ones; nothing is committed here."""
    added = updated = 0
    for start in range(0, len(rows), LOOKUP_CHUNK):
        chunk = rows[start:start + LOOKUP_CHUNK]
        known = {recipient.phone: recipient for recipient in
                 db.session.scalars(select(Recipient).where(Recipient.phone.in_([row.phone for row in chunk])))}
        for row in chunk:
            values = {"county_code": row.county_code, "languages": row.languages, "channels": list(row.channels),
                      "exercise": row.exercise, "active": True,
                      "beidou_terminal_id": cards[row.beidou_card] if row.beidou_card else None}
            if row.phone in known:
                for name, value in values.items():
                    setattr(known[row.phone], name, value)
                updated += 1
            else:
                db.session.add(Recipient(phone=row.phone, **values))
                added += 1
        db.session.flush()
    return added, updated
