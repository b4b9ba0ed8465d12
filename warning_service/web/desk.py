"""The translators' desk (/translations): the queue of every piece of Tibetan the public can receive,
missing first, and each entry's page with its proposals and the forms to propose, approve or return.

Translators act; admins and auditors read. The same rules and ledger entries as `flask translations`
(services/translations.py); a refusal shows the reason in the reader's language (4xx).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..channels.catalog import texts
from ..extensions import db
from ..hazards import catalogue
from ..models import EntryStatus, Role, TranslationEntry, TranslationProposal
from ..models.translation import MAX_COMMENT, MAX_TIBETAN
from ..services import translations
from .auth import roles_required
from .forms import ConsoleForm

desk = Blueprint("desk", __name__)

TRANSLATORS = (Role.TRANSLATOR,)
READERS = (Role.TRANSLATOR, Role.ADMIN, Role.AUDITOR)
KINDS = ("hazard", "action", "level", "term", "place", "catalog")

# The desk's refusals (services/translations.py REFUSAL_TEXTS) in the reader's language, by code, with
# their status: who may not (403), what is no longer possible (409), what is wrong with the input (422).
REFUSALS = {
    "not_translator": (_l("Only a translator may do this."), 403),
    "four_eyes": (_l("A second translator decides: you proposed this one."), 403),
    "not_proposed": (_l("This proposal is no longer waiting for review."), 409),
    "proposal_unknown": (_l("This proposal is not waiting for review here."), 409),
    "tibetan_empty": (_l("Type the Tibetan."), 422),
    "tibetan_length": (_l("At most %(max)s characters."), 422),
    "not_tibetan": (_l("Only Tibetan script, with digits, spaces and punctuation; found: %(found)s"), 422),
    "comment_missing": (_l("Say why it goes back, in at most %(max)s characters."), 422),
}
KIND_LABELS = {"hazard": _l("Hazard name"), "action": _l("Protective action"), "level": _l("Warning level"),
               "term": _l("Template wording"), "place": _l("Place name"), "catalog": _l("Console interface")}
STATUS_LABELS = {EntryStatus.MISSING: _l("Missing"), EntryStatus.PROPOSED: _l("Proposed"),
                 EntryStatus.APPROVED: _l("Approved")}
STATE_LABELS = {"proposed": _l("Waiting for review"), "approved": _l("Approved"), "returned": _l("Returned"),
                "superseded": _l("Superseded")}


class ProposeForm(ConsoleForm):
    bo = TextAreaField(_l("Tibetan"), validators=[DataRequired(), Length(max=MAX_TIBETAN)])


class ReturnForm(ConsoleForm):
    proposal = HiddenField(validators=[DataRequired()])
    comment = TextAreaField(_l("Why it goes back"), validators=[DataRequired(), Length(max=MAX_COMMENT)])


class ApproveForm(ConsoleForm):
    proposal = IntegerField(validators=[Optional()])


def _filters() -> dict[str, str | None]:
    """The queue's filters from the query string; an unknown value is a 400 naming it."""
    allowed = {"hazard": [hazard.code for hazard in catalogue()], "channel": list(texts()),
               "status": [status.value for status in EntryStatus], "kind": list(KINDS)}
    chosen: dict[str, str | None] = {}
    for name, values in allowed.items():
        value = request.args.get(name) or None
        if value is not None and value not in values:
            abort(400, _("Unknown %(filter)s: %(value)s", filter=name, value=value[:40]))
        chosen[name] = value
    return chosen


@desk.get("/")
@roles_required(*READERS)
def queue():
    chosen = _filters()
    entries = translations.list_entries(db.session, **chosen)
    db.session.commit()
    return render_template("desk/queue.html", entries=entries, chosen=chosen, hazards=catalogue(),
                           channels=texts(), statuses=STATUS_LABELS, kinds=KIND_LABELS)


def _entry(entry_id: int) -> TranslationEntry:
    entry = db.session.get(TranslationEntry, entry_id)
    if entry is None:
        abort(404, _("Nothing with the number %(id)s here.", id=entry_id))
    return entry


def _page(entry: TranslationEntry, propose: ProposeForm | None = None, returned: ReturnForm | None = None,
          problems: list[str] = (), fits: list[translations.Fit] = ()) -> str:
    return render_template("desk/entry.html", entry=entry, waiting=translations.pending(entry),
                           propose=propose or ProposeForm(formdata=None), returned=returned or ReturnForm(formdata=None),
                           approve=ApproveForm(formdata=None), problems=list(problems), fits=list(fits),
                           statuses=STATUS_LABELS, kinds=KIND_LABELS, states=STATE_LABELS)


def _refused(entry: TranslationEntry, refused: translations.TranslationRefused, **forms):
    db.session.rollback()
    text, status = REFUSALS[refused.code]
    return _page(entry, problems=[str(text) % refused.details], **forms), status


@desk.get("/<int:entry_id>")
@roles_required(*READERS)
def entry(entry_id: int):
    return _page(_entry(entry_id))


@desk.post("/<int:entry_id>/propose")
@roles_required(*TRANSLATORS)
def propose(entry_id: int):
    found = _entry(entry_id)
    form = ProposeForm()
    if not form.validate_on_submit():
        return _page(found, propose=form), 422
    try:
        proposal, fits = translations.propose(db.session, current_user._get_current_object(), "console", found,
                                              form.bo.data, current_app.config)
    except translations.TranslationRefused as refused:
        return _refused(found, refused, propose=form)
    db.session.commit()
    flash(_("Version %(version)s proposed; a second translator reviews it.", version=proposal.version), "ok")
    return _page(found, fits=fits)


def _waiting(found: TranslationEntry, proposal_id: str | None) -> TranslationProposal:
    """The proposal the form was shown for: it must still be the one waiting (else 409)."""
    waiting = translations.pending(found)
    if waiting is None or str(waiting.id) != (proposal_id or "").strip():
        raise translations.TranslationRefused("proposal", "proposal_unknown", conflict=True, id=proposal_id)
    return waiting


@desk.post("/<int:entry_id>/approve")
@roles_required(*TRANSLATORS)
def approve(entry_id: int):
    found = _entry(entry_id)
    if not ApproveForm().validate_on_submit():
        abort(400, _("The form has expired; open the entry again."))
    try:
        translations.approve(db.session, current_user._get_current_object(), "console",
                             _waiting(found, request.form.get("proposal")))
    except translations.TranslationRefused as refused:
        return _refused(found, refused)
    db.session.commit()
    flash(_("Approved: warnings use this Tibetan from now on."), "ok")
    return redirect(url_for("desk.entry", entry_id=found.id), 303)


@desk.post("/<int:entry_id>/return")
@roles_required(*TRANSLATORS)
def return_proposal(entry_id: int):
    found = _entry(entry_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        return _page(found, returned=form), 422
    try:
        translations.return_proposal(db.session, current_user._get_current_object(), "console",
                                     _waiting(found, form.proposal.data), form.comment.data)
    except translations.TranslationRefused as refused:
        return _refused(found, refused, returned=form)
    db.session.commit()
    flash(_("Returned to its translator with your comment."), "ok")
    return redirect(url_for("desk.entry", entry_id=found.id), 303)
