"""The administrators' page of the operators' Cell Broadcast Centres (/admin/cbc): the list with each
CBC's last link test, adding one, and deactivating one; and the banner every console page shows while a
CBC does not answer its link test.

Only admins; the same rules and ledger entries as `flask endpoints add-cbc` (services/cbc_operators.py).
The token and callback secret are typed hidden and never shown back. A refusal redisplays the form
with the reason in the admin's language (4xx).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..channels.cell_broadcast.link import not_answering
from ..extensions import db
from ..models import CbcOperator, Role
from ..models.cbc_operator import MAX_CODE, MAX_NAME, MAX_URL
from ..services import cbc_operators as registry
from .auth import roles_required
from .forms import ConsoleForm

admin_cbc = Blueprint("admin_cbc", __name__)

# The registry's refusals (services/cbc_operators.py REFUSAL_TEXTS) in the admin's language, by code.
REFUSALS = {
    "code_malformed": _l("A code has 2 to %(max)s characters: lowercase Latin letters, digits, '-' or '_', beginning "
                         "with a letter."),
    "code_taken": _l("The code is already the operator %(name)s; codes are never reused."),
    "name_length": _l("A name has 1 to %(max)s characters."),
    "url_malformed": _l("Give the CBC's http:// or https:// address (at most %(max)s characters)."),
    "failover_same": _l("The failover address must differ from the primary address."),
    "token_empty": _l("The bearer token cannot be empty."),
    "secret_empty": _l("The callback secret cannot be empty."),
    "max_vertices_range": _l("A CBC takes %(min)s to %(max)s polygon points."),
    "identifiers_malformed": _l("Write each identifier override as key=first,additional, e.g. red=4370,4383."),
    "identifiers_key": _l("%(key)s is not an identifier key; the keys are %(keys)s."),
    "identifiers_range": _l("%(key)s: identifiers are whole numbers from %(low)s to %(high)s."),
    "operator_inactive": _l("The operator %(operator)s is already inactive."),
}


class CbcOperatorForm(ConsoleForm):
    code = StringField(_l("Code (lowercase Latin letters, digits, - or _; it names the operator in its status callbacks' address)"),
                       validators=[DataRequired(), Length(max=MAX_CODE)])
    name = StringField(_l("Operator's name"), validators=[DataRequired(), Length(max=MAX_NAME)])
    url = StringField(_l("CBC address"), validators=[DataRequired(), Length(max=MAX_URL)])
    failover_url = StringField(_l("Failover address (tried at once when the first fails)"),
                               validators=[Optional(), Length(max=MAX_URL)])
    token = PasswordField(_l("Bearer token (never shown again)"), validators=[DataRequired(), Length(max=2000)])
    callback_secret = PasswordField(_l("Callback signing secret (never shown again)"),
                                    validators=[DataRequired(), Length(max=2000)])
    max_vertices = IntegerField(_l("Most polygon points the CBC accepts (empty: 100)"), validators=[Optional()])
    identifiers = StringField(_l("Own message identifiers (optional: key=first,additional, separated by ;)"),
                              validators=[Optional(), Length(max=500)])
    exercise = BooleanField(_l("Exercise CBC: receives Exercise messages and link tests only"))


@admin_cbc.app_context_processor
def link_banner() -> dict:
    """`cbc_not_answering()` in every page: the active CBCs whose last link test failed (console/base.html's
    banner), read only when a page for a signed-in user asks."""
    return {"cbc_not_answering": lambda: list(db.session.scalars(not_answering().order_by(CbcOperator.code)))}


def refusal_text(refused: registry.CbcOperatorRefused) -> str:
    return str(REFUSALS[refused.code]) % refused.details


def _page(form: CbcOperatorForm | None = None, problems: list[str] = ()) -> str:
    return render_template("admin/cbc.html", operators=registry.operators(db.session),
                           form=form or CbcOperatorForm(), problems=list(problems))


@admin_cbc.get("/")
@roles_required(Role.ADMIN)
def index():
    return _page()


@admin_cbc.post("/")
@roles_required(Role.ADMIN)
def add():
    form = CbcOperatorForm()
    if not form.validate_on_submit():
        return _page(form), 422
    try:
        operator = registry.add_operator(
            db.session, current_user._get_current_object(), "console", code=form.code.data, name=form.name.data,
            url=form.url.data, failover_url=form.failover_url.data, token=form.token.data,
            callback_secret=form.callback_secret.data, max_vertices=form.max_vertices.data,
            exercise=form.exercise.data, identifiers=form.identifiers.data)
    except registry.CbcOperatorRefused as refused:
        db.session.rollback()
        getattr(form, refused.field).errors.append(refusal_text(refused))
        return _page(form), 409 if refused.conflict else 422
    db.session.commit()
    flash(_("Cell broadcast centre %(name)s added.", name=operator.name), "ok")
    return redirect(url_for("admin_cbc.index"), 303)


@admin_cbc.post("/<int:operator_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate(operator_id: int):
    operator = db.session.get(CbcOperator, operator_id)
    if operator is None:
        abort(404, _("Nothing with the number %(id)s here.", id=operator_id))
    try:
        registry.deactivate_operator(db.session, current_user._get_current_object(), "console", operator)
    except registry.CbcOperatorRefused as refused:
        db.session.rollback()
        return _page(problems=[refusal_text(refused)]), 409
    db.session.commit()
    flash(_("%(name)s deactivated: no new alert goes to it; what it was sent stays on record.", name=operator.name),
          "ok")
    return redirect(url_for("admin_cbc.index"), 303)
