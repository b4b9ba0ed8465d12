"""The administrators' pages: console users (role, password), agencies and their API keys, the targets
each channel registers one at a time (its TargetKinds: county broadcast endpoints, BeiDou terminals;
their forms and lists are built from the kinds), and recipients imported from CSV.

Only admins; every change is in the audit log with the acting admin, through the same
domain functions as the `flask` commands (directory.py, security/accounts.py,
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

from .. import directory
from ..channels.catalog import target_kinds
from ..channels.spec import TargetKind
from ..extensions import db
from ..models import Agency, ApiKey, County, Recipient, Role, User
from ..models.user import MIN_PASSWORD_LENGTH
from ..registration import RegistryError
from ..security import accounts, mfa
from ..security.accounts import AccountRefused
from ..security.api_keys import issue_agency_key, revoke_agency_key
from ..services import recipients_import
from ..services.recipients_import import ImportRefused
from .admin_forms import TARGET_FORMS, AgencyForm, ImportForm, PasswordForm, PlaceForm, RoleForm, UserForm
from .auth import roles_required
from .labels import label_of
from .refusals import refusal_text

admin = Blueprint("admin", __name__)

KINDS: dict[str, TargetKind] = {kind.path: kind for kind in target_kinds()}
# The URL part that names a kind: /admin/broadcast, /admin/beidou/3
KIND_PATH = f"<any({', '.join(KINDS)}):path>"

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


# --- agencies, and each channel's registered targets ----------------------------------------------

NO_STORE = {"Cache-Control": "no-store"}  # a page showing a key or a secret once


def _row_or_404(model: type, row_id: int):
    row = db.session.get(model, row_id)
    if row is None:
        abort(404, _("Nothing with the number %(id)s here.", id=row_id))
    return row


def _refused(form: FlaskForm, error: RegistryError) -> tuple[list[str], int]:
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
               new_secret: str | None = None, secret_notice: str = "") -> str:
    return render_template("admin/edit.html", title=title, form=form, action=action, deactivate=deactivate,
                           problems=list(problems), new_secret=new_secret, secret_notice=secret_notice)


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
        agency, key = directory.create_agency(db.session, _actor(), "console", form.name.data, form.kind.data,
                                              form.hazards.data, form.auto_publish.data, form.senders.data,
                                              reserved_senders=directory.service_senders(current_app.config))
    except RegistryError as error:
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
        directory.update_agency(db.session, _actor(), "console", agency, form.name.data, form.kind.data,
                                form.hazards.data, form.auto_publish.data, form.senders.data,
                                reserved_senders=directory.service_senders(current_app.config))
    except RegistryError as error:
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
        directory.deactivate_agency(db.session, _actor(), "console", agency)
    except RegistryError as error:
        db.session.rollback()
        return _agencies_page(problems=[refusal_text(error)]), 409
    db.session.commit()
    flash(_("Agency %(name)s deactivated: its keys no longer work.", name=agency.name), "ok")
    return redirect(url_for("admin.agencies"), 303)


def _endpoints_page(forms: dict[str, PlaceForm] | None = None, problems: list[str] = (),
                    new_secret: tuple[TargetKind, object, str] | None = None) -> str:
    """Each kind's targets, by county, with its form to add one."""
    sections = [(kind, db.session.scalars(select(kind.model).order_by(kind.model.county_code, kind.model.id)).all(),
                 (forms or {}).get(path) or TARGET_FORMS[path]().offer()) for path, kind in KINDS.items()]
    return render_template("admin/endpoints.html", sections=sections, problems=list(problems), new_secret=new_secret)


@admin.get("/endpoints")
@roles_required(Role.ADMIN)
def endpoints():
    return _endpoints_page()


def _values(kind: TargetKind, form: PlaceForm, editing: bool = False) -> dict[str, object]:
    """The kind's own fields from the form; a secret left empty is None (generated, or kept)."""
    values: dict[str, object] = {}
    for field in kind.fields:
        if editing or not field.edit_only:
            data = form[field.name].data
            values[field.name] = None if field.kind == "secret" and not data else data
    return values


@admin.post(f"/{KIND_PATH}")
@roles_required(Role.ADMIN)
def add_target(path: str):
    """Add a target of the kind; a secret it generates is shown on the answer, once."""
    kind = KINDS[path]
    form = TARGET_FORMS[path]().offer()
    if not form.validate_on_submit():
        return _endpoints_page({path: form}), 422
    try:
        target, generated = directory.add_target(db.session, _actor(), "console", kind, form.county.data,
                                                 form.name.data, form.exercise.data, _values(kind, form))
    except RegistryError as error:
        problems, status = _refused(form, error)
        return _endpoints_page({path: form}, problems), status
    db.session.commit()
    if generated:
        return _endpoints_page(new_secret=(kind, target, generated)), 201, NO_STORE
    flash(_(kind.added, name=target.name), "ok")
    return redirect(url_for("admin.endpoints"), 303)


def _form_data(kind: TargetKind, target) -> dict[str, object]:
    """What an edit form starts from: the target as it is, never its secret."""
    return {"county": target.county_code, "name": target.name, "exercise": target.exercise,
            **{field.name: getattr(target, field.attribute) for field in kind.fields
               if field.attribute is not None and field.kind != "secret"}}


def _target_page(kind: TargetKind, target, form: PlaceForm, problems: list[str] = (),
                 new_secret: str | None = None) -> str:
    return _edit_page(_(kind.title, name=target.name), form,
                      url_for("admin.edit_target", path=kind.path, target_id=target.id),
                      url_for("admin.deactivate_target", path=kind.path, target_id=target.id) if target.active else None,
                      problems, new_secret, _(kind.secret_notice, name=target.name) if new_secret else "")


@admin.route(f"/{KIND_PATH}/<int:target_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_target(path: str, target_id: int):
    """Edit a target; a secret is never shown: a typed one replaces it, a generated one is shown once."""
    kind = KINDS[path]
    target = _row_or_404(kind.model, target_id)
    form = TARGET_FORMS[path](data=_form_data(kind, target)).offer()
    if not form.validate_on_submit():
        return _target_page(kind, target, form), 422 if form.is_submitted() else 200
    try:
        generated = directory.update_target(db.session, _actor(), "console", kind, target, form.county.data,
                                            form.name.data, form.exercise.data, _values(kind, form, editing=True))[1]
    except RegistryError as error:
        problems, status = _refused(form, error)
        return _target_page(kind, target, form, problems), status
    db.session.commit()
    if generated:
        fresh = TARGET_FORMS[path](formdata=None, data=_form_data(kind, target)).offer()
        return _target_page(kind, target, fresh, new_secret=generated), 200, NO_STORE
    flash(_(kind.saved, name=target.name), "ok")
    return redirect(url_for("admin.endpoints"), 303)


@admin.post(f"/{KIND_PATH}/<int:target_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate_target(path: str, target_id: int):
    kind = KINDS[path]
    target = _row_or_404(kind.model, target_id)
    try:
        directory.deactivate_target(db.session, _actor(), "console", kind, target)
    except RegistryError as error:
        db.session.rollback()
        return _endpoints_page(problems=[refusal_text(error)]), 409
    db.session.commit()
    flash(_("%(name)s deactivated: no new alert reaches it; its history is kept.", name=target.name), "ok")
    return redirect(url_for("admin.endpoints"), 303)
