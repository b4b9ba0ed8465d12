"""The Tibetan interface uses the desk for its catalog entries (issue 18, item 5): a bo catalog entry whose
msgstr is a Chinese stand-in is missing on the desk, and an approved one changes the bo console at the next
page, before the .mo. The Tibetan is a fixture of "the translator" (tests/support/text.py), never made up."""
from __future__ import annotations

from tests.support.console import fresh_request, make_user, sign_in
from tests.support.text import TIBETAN
from warning_service.extensions import db
from warning_service.models import EntryStatus, Role
from warning_service.services import translations

DESK = "catalog:Translation desk"
STAND_IN = "翻译审校台"


def test_stand_ins_are_missing_and_sourced_terms_are_approved(app):
    desk = translations.entry_by_key(db.session, DESK)
    assert (desk.status, desk.bo, desk.zh) == (EntryStatus.MISSING, None, STAND_IN)
    county = translations.entry_by_key(db.session, "catalog:County")
    assert (county.status, county.bo, county.bo_source) == (EntryStatus.APPROVED, "རྫོང", "bo catalog")


def test_an_approved_catalog_entry_changes_the_tibetan_console_at_once(app, client):
    proposer, reviewer = make_user("tr-a", Role.TRANSLATOR), make_user("tr-b", Role.TRANSLATOR)
    reader = make_user("tr-bo", Role.TRANSLATOR)
    reader.locale = "bo"
    db.session.commit()
    sign_in(client, "tr-bo")
    fresh_request()
    before = client.get("/translations/").get_data(as_text=True)
    assert STAND_IN in before and TIBETAN not in before
    entry = translations.entry_by_key(db.session, DESK)
    proposal, _ = translations.propose(db.session, proposer, "test", entry, TIBETAN)
    db.session.commit()
    fresh_request()
    assert TIBETAN not in client.get("/translations/").get_data(as_text=True)   # proposed is not used
    translations.approve(db.session, reviewer, "test", proposal)
    db.session.commit()
    fresh_request()
    after = client.get("/translations/").get_data(as_text=True)
    assert TIBETAN in after and after.count(STAND_IN) < before.count(STAND_IN)
    reader.locale = "zh"
    db.session.commit()
    fresh_request()
    assert TIBETAN not in client.get("/translations/?kind=hazard").get_data(as_text=True)   # the zh console keeps its Chinese
