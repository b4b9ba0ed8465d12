"""The administrators' pages: console users (role, password), agencies and their API keys, county
broadcast endpoints, BeiDou terminals, and recipients imported from CSV.

Only admins; every change is in the audit log with the acting admin, through the same
domain functions as the `flask` commands (registry.py, security/accounts.py,
services/recipients_import.py); the forms are in admin_forms.py. A new key or a generated
signing secret is shown once, in the response itself (never in a redirect's flash, which
travels in the cookie), and never again; a secret an admin typed is never shown back. A
recipients file is imported whole or not at all: one bad line and nothing changes, with
every problem listed. Bad input redisplays the form with the reason (4xx).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from .. import registry
from ..extensions import db
from ..models import Agency, ApiKey, BeidouTerminal, BroadcastEndpoint, County, Recipient, Role, User
from ..models.user import MIN_PASSWORD_LENGTH
from ..security import accounts, mfa
from ..security.accounts import AccountRefused
from ..security.api_keys import issue_agency_key, revoke_agency_key
from ..services import recipients_import
from ..services.recipients_import import ImportRefused
from .admin_forms import AgencyForm, BeidouForm, BroadcastForm, ImportForm, PasswordForm, RoleForm, UserForm
from .auth import roles_required
from .labels import label_of
from .refusals import refusal_text

admin = Blueprint("admin", __name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SHOWN_PROBLEMS = 50


def _page(user_form: UserForm | None = None, import_form: ImportForm | None = None, problems: list[str] = (),
          new_key: tuple[Agency, str] | None = None):
    users = db.session.scalars(select(User).order_by(User.username)).all()
    agencies = db.session.scalars(select(Agency).order_by(Agency.name)).all()
    per_county = dict(db.session.execute(select(Recipient.county_code, func.count())
                                         .where(Recipient.active.is_(True)).group_by(Recipient.county_code)).all())
    counties = db.session.scalars(select(County).order_by(County.code)).all()
    return render_template("admin/index.html", users=users, agencies=agencies, counties=counties,
                           per_county=per_county, user_form=user_form or UserForm(),
                           import_form=import_form or ImportForm(), problems=list(problems), new_key=new_key,
                           roles=list(Role))


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
    try:
        user = accounts.create_user(db.session, _actor(), "console", form.username.data, Role(form.role.data),
                                    form.password.data)
    except AccountRefused as refused:
        db.session.rollback()
        return _page(user_form=form, problems=[refusal_text(refused)]), 422
    db.session.commit()
    flash(_("User %(name)s created.", name=user.username), "ok")
    return redirect(url_for("admin.index"), 303)


@admin.post("/users/<int:user_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate_user(user_id: int):
    user = _other_user(user_id)
    if user is None:
        return _page(problems=[_("That user cannot be deactivated here.")]), 422
    try:
        accounts.deactivate(db.session, _actor(), "console", user)
    except AccountRefused as refused:
        db.session.rollback()
        return _page(problems=[refusal_text(refused)]), 409
    db.session.commit()
    flash(_("User %(name)s deactivated.", name=user.username), "ok")
    return redirect(url_for("admin.index"), 303)


@admin.post("/agencies/<int:agency_id>/keys")
@roles_required(Role.ADMIN)
def issue_key(agency_id: int):
    """A new key for the agency, shown once on this page; older keys stay live until revoked."""
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        abort(404, _("No agency %(id)s.", id=agency_id))
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
        added, updated = recipients_import.import_recipients(db.session, _actor(), "console", data,
                                                            form.file.data.filename)
    except ImportRefused as refused:
        db.session.rollback()
        return _page(problems=_import_problems(refused)), 422
    db.session.commit()
    flash(_("Imported: %(added)d new recipients, %(updated)d updated.", added=added, updated=updated), "ok")
    return redirect(url_for("admin.index"), 303)


def _import_problems(refused: ImportRefused) -> list[str]:
    """Why nothing was imported: the encoding, or the first SHOWN_PROBLEMS bad rows and how many more."""
    if refused.code == "not_utf8":
        return [_("The file is not UTF-8 text; save the CSV as UTF-8.")]
    shown = refused.problems[:SHOWN_PROBLEMS]
    if len(refused.problems) > SHOWN_PROBLEMS:
        shown.append(_("… and %(more)d more problems.", more=len(refused.problems) - SHOWN_PROBLEMS))
    return [_("Nothing was imported.")] + shown


# --- users: role and password ---------------------------------------------------------------------

def _actor() -> User:
    return current_user._get_current_object()


def _other_user(user_id: int) -> User | None:
    """A user an admin may change here: not themself (no admin locks themself out by mistake)."""
    user = db.session.get(User, user_id)
    return None if user is None or user.id == current_user.id else user


@admin.post("/users/<int:user_id>/role")
@roles_required(Role.ADMIN)
def set_user_role(user_id: int):
    form = RoleForm()
    user = _other_user(user_id)
    if user is None or not form.validate_on_submit():
        return _page(problems=[_("That user's role cannot be changed here.")]), 422
    previous = accounts.set_role(db.session, _actor(), "console", user, Role(form.role.data))
    db.session.commit()
    flash(_("%(name)s: role %(previous)s → %(role)s.", name=user.username, previous=label_of(Role, previous),
            role=label_of(Role, user.role)), "ok")
    return redirect(url_for("admin.index"), 303)


@admin.post("/users/<int:user_id>/password")
@roles_required(Role.ADMIN)
def reset_user_password(user_id: int):
    form = PasswordForm()
    user = _other_user(user_id)
    if user is None:
        return _page(problems=[_("That user's password cannot be reset here.")]), 422
    if not form.validate_on_submit():
        return _page(problems=[_("A password has at least %(count)d characters.", count=MIN_PASSWORD_LENGTH)]), 422
    accounts.reset_password(db.session, _actor(), "console", user, form.password.data)
    db.session.commit()
    flash(_("Password of %(name)s reset; tell them in person.", name=user.username), "ok")
    return redirect(url_for("admin.index"), 303)


@admin.post("/users/<int:user_id>/mfa/reset")
@roles_required(Role.ADMIN)
def reset_user_mfa(user_id: int):
    """A lost phone: the user's second factor is forgotten and their sessions end; they enrol again."""
    user = _other_user(user_id)
    if user is None:
        return _page(problems=[_("That user's two-step sign-in cannot be reset here.")]), 422
    mfa.reset(db.session, _actor(), "console", user)
    db.session.commit()
    flash(_("Two-step sign-in of %(name)s reset; they set it up again when they next sign in.",
            name=user.username), "ok")
    return redirect(url_for("admin.index"), 303)


# --- agencies, broadcast endpoints, BeiDou terminals ----------------------------------------------

NO_STORE = {"Cache-Control": "no-store"}  # a page showing a key or a secret once


def _row_or_404(model: type, row_id: int):
    row = db.session.get(model, row_id)
    if row is None:
        abort(404, _("Nothing with the number %(id)s here.", id=row_id))
    return row


def _refused(form: FlaskForm, error: registry.RegistryError) -> tuple[list[str], int]:
    """The registry's reason, under the field it names (or above the form); 409 for a clash."""
    db.session.rollback()
    field = getattr(form, error.field, None)
    text = refusal_text(error)
    problems = [text]
    if field is not None and isinstance(field.errors, list):
        field.errors.append(text)
        problems = []
    return problems, 409 if error.conflict else 422


def _agencies_page(form: AgencyForm | None = None, problems: list[str] = (),
                   new_key: tuple[Agency, str] | None = None) -> str:
    agencies = db.session.scalars(select(Agency).order_by(Agency.name)).all()
    return render_template("admin/agencies.html", agencies=agencies, form=form or AgencyForm().offer(),
                           problems=list(problems), new_key=new_key)


def _edit_page(title: str, form: FlaskForm, action: str, deactivate: str | None, problems: list[str] = (),
               new_secret: str | None = None) -> str:
    return render_template("admin/edit.html", title=title, form=form, action=action, deactivate=deactivate,
                           problems=list(problems), new_secret=new_secret)


@admin.get("/agencies")
@roles_required(Role.ADMIN)
def agencies():
    return _agencies_page()


@admin.post("/agencies")
@roles_required(Role.ADMIN)
def create_agency():
    """Register an agency; its first API key is on the answer, once."""
    form = AgencyForm().offer()
    if not form.validate_on_submit():
        return _agencies_page(form), 422
    try:
        agency, key = registry.create_agency(db.session, _actor(), "console", form.name.data, form.kind.data,
                                             form.hazards.data, form.auto_publish.data, form.senders.data,
                                             reserved_senders=registry.service_senders(current_app.config))
    except registry.RegistryError as error:
        problems, status = _refused(form, error)
        return _agencies_page(form, problems), status
    db.session.commit()
    return _agencies_page(new_key=(agency, key)), 201, NO_STORE


def _agency_form(agency: Agency) -> AgencyForm:
    return AgencyForm(data={"name": agency.name, "kind": agency.kind.value, "hazards": list(agency.hazards),
                            "auto_publish": agency.auto_publish,
                            "senders": "\n".join(agency.cap_senders)}).offer()


def _agency_page(agency: Agency, form: AgencyForm, problems: list[str] = ()) -> str:
    return _edit_page(_("Agency %(name)s", name=agency.name), form, url_for("admin.edit_agency", agency_id=agency.id),
                      url_for("admin.deactivate_agency", agency_id=agency.id) if agency.active else None, problems)


@admin.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_agency(agency_id: int):
    agency = _row_or_404(Agency, agency_id)
    form = _agency_form(agency)
    if not form.validate_on_submit():
        return _agency_page(agency, form), 422 if form.is_submitted() else 200
    try:
        registry.update_agency(db.session, _actor(), "console", agency, form.name.data, form.kind.data,
                               form.hazards.data, form.auto_publish.data, form.senders.data,
                               reserved_senders=registry.service_senders(current_app.config))
    except registry.RegistryError as error:
        problems, status = _refused(form, error)
        return _agency_page(agency, form, problems), status
    db.session.commit()
    flash(_("Agency %(name)s saved.", name=agency.name), "ok")
    return redirect(url_for("admin.agencies"), 303)


@admin.post("/agencies/<int:agency_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate_agency(agency_id: int):
    """Its keys stop working at once; its alerts and history stay."""
    agency = _row_or_404(Agency, agency_id)
    try:
        registry.deactivate_agency(db.session, _actor(), "console", agency)
    except registry.RegistryError as error:
        db.session.rollback()
        return _agencies_page(problems=[refusal_text(error)]), 409
    db.session.commit()
    flash(_("Agency %(name)s deactivated: its keys no longer work.", name=agency.name), "ok")
    return redirect(url_for("admin.agencies"), 303)


def _endpoints_page(broadcast_form: BroadcastForm | None = None, beidou_form: BeidouForm | None = None,
                    problems: list[str] = (), new_secret: tuple[BroadcastEndpoint, str] | None = None) -> str:
    endpoints = db.session.scalars(select(BroadcastEndpoint).order_by(BroadcastEndpoint.county_code,
                                                                      BroadcastEndpoint.id)).all()
    terminals = db.session.scalars(select(BeidouTerminal).order_by(BeidouTerminal.county_code,
                                                                   BeidouTerminal.id)).all()
    return render_template("admin/endpoints.html", endpoints=endpoints, terminals=terminals,
                           broadcast_form=broadcast_form or BroadcastForm().offer(),
                           beidou_form=beidou_form or BeidouForm().offer(), problems=list(problems),
                           new_secret=new_secret)


@admin.get("/endpoints")
@roles_required(Role.ADMIN)
def endpoints():
    return _endpoints_page()


@admin.post("/broadcast")
@roles_required(Role.ADMIN)
def add_broadcast():
    """Add a county's broadcast platform; a secret left empty is generated and shown on the answer, once."""
    form = BroadcastForm().offer()
    if not form.validate_on_submit():
        return _endpoints_page(broadcast_form=form), 422
    try:
        endpoint, generated = registry.add_broadcast_endpoint(
            db.session, _actor(), "console", form.county.data, form.url.data, form.secret.data or None,
            form.name.data, form.exercise.data)
    except registry.RegistryError as error:
        problems, status = _refused(form, error)
        return _endpoints_page(broadcast_form=form, problems=problems), status
    db.session.commit()
    if generated:
        return _endpoints_page(new_secret=(endpoint, generated)), 201, NO_STORE
    flash(_("Broadcast endpoint %(name)s added.", name=endpoint.name), "ok")
    return redirect(url_for("admin.endpoints"), 303)


def _broadcast_page(endpoint: BroadcastEndpoint, form: BroadcastForm, problems: list[str] = (),
                    new_secret: str | None = None) -> str:
    return _edit_page(_("Broadcast endpoint %(name)s", name=endpoint.name), form,
                      url_for("admin.edit_broadcast", endpoint_id=endpoint.id),
                      url_for("admin.deactivate_broadcast", endpoint_id=endpoint.id) if endpoint.active else None,
                      problems, new_secret)


@admin.route("/broadcast/<int:endpoint_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_broadcast(endpoint_id: int):
    """Edit a platform; its secret is never shown: a typed one replaces it, a generated one is shown once."""
    endpoint = _row_or_404(BroadcastEndpoint, endpoint_id)
    form = BroadcastForm(data={"county": endpoint.county_code, "name": endpoint.name, "url": endpoint.url,
                               "exercise": endpoint.exercise}).offer()
    if not form.validate_on_submit():
        return _broadcast_page(endpoint, form), 422 if form.is_submitted() else 200
    try:
        generated = registry.update_broadcast_endpoint(
            db.session, _actor(), "console", endpoint, form.county.data, form.url.data, form.name.data,
            form.exercise.data, new_secret=form.secret.data or None, generate_secret=form.generate_secret.data)
    except registry.RegistryError as error:
        problems, status = _refused(form, error)
        return _broadcast_page(endpoint, form, problems), status
    db.session.commit()
    if generated:
        return _broadcast_page(endpoint, BroadcastForm(formdata=None, data={
            "county": endpoint.county_code, "name": endpoint.name, "url": endpoint.url,
            "exercise": endpoint.exercise}).offer(), new_secret=generated), 200, NO_STORE
    flash(_("Broadcast endpoint %(name)s saved.", name=endpoint.name), "ok")
    return redirect(url_for("admin.endpoints"), 303)


@admin.post("/broadcast/<int:endpoint_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate_broadcast(endpoint_id: int):
    return _deactivate(_row_or_404(BroadcastEndpoint, endpoint_id))


@admin.post("/beidou")
@roles_required(Role.ADMIN)
def add_beidou():
    form = BeidouForm().offer()
    if not form.validate_on_submit():
        return _endpoints_page(beidou_form=form), 422
    try:
        terminal = registry.add_beidou_terminal(db.session, _actor(), "console", form.county.data, form.card.data,
                                                form.township.data, form.name.data, form.is_group.data,
                                                form.exercise.data)
    except registry.RegistryError as error:
        problems, status = _refused(form, error)
        return _endpoints_page(beidou_form=form, problems=problems), status
    db.session.commit()
    flash(_("BeiDou terminal %(name)s added.", name=terminal.name), "ok")
    return redirect(url_for("admin.endpoints"), 303)


@admin.route("/beidou/<int:terminal_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_beidou(terminal_id: int):
    terminal = _row_or_404(BeidouTerminal, terminal_id)
    form = BeidouForm(data={"county": terminal.county_code, "name": terminal.name, "card": terminal.card_address,
                            "township": terminal.township_code, "is_group": terminal.is_group,
                            "exercise": terminal.exercise}).offer()
    title = _("BeiDou terminal %(name)s", name=terminal.name)
    action = url_for("admin.edit_beidou", terminal_id=terminal.id)
    deactivate = url_for("admin.deactivate_beidou", terminal_id=terminal.id) if terminal.active else None
    if not form.validate_on_submit():
        return _edit_page(title, form, action, deactivate), 422 if form.is_submitted() else 200
    try:
        registry.update_beidou_terminal(db.session, _actor(), "console", terminal, form.county.data, form.card.data,
                                        form.township.data, form.name.data, form.is_group.data, form.exercise.data)
    except registry.RegistryError as error:
        problems, status = _refused(form, error)
        return _edit_page(title, form, action, deactivate, problems), status
    db.session.commit()
    flash(_("BeiDou terminal %(name)s saved.", name=terminal.name), "ok")
    return redirect(url_for("admin.endpoints"), 303)


@admin.post("/beidou/<int:terminal_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate_beidou(terminal_id: int):
    return _deactivate(_row_or_404(BeidouTerminal, terminal_id))


def _deactivate(target: BroadcastEndpoint | BeidouTerminal):
    try:
        registry.deactivate_target(db.session, _actor(), "console", target)
    except registry.RegistryError as error:
        db.session.rollback()
        return _endpoints_page(problems=[refusal_text(error)]), 409
    db.session.commit()
    flash(_("%(name)s deactivated: no new alert reaches it; its history is kept.", name=target.name), "ok")
    return redirect(url_for("admin.endpoints"), 303)
