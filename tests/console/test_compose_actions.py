"""The compose form's protective actions, ticked not typed, and the officer's own Tibetan free text, marked
"written by <officer>, not reviewed" wherever it is shown (issue 18, item 3). The Tibetan is a fixture typed as
the officer would (tests/support/text.py), never made up by the program."""
from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from tests.support.console import compose, sign_in
from tests.support.text import CHINESE, TIBETAN
from warning_service.extensions import db
from warning_service.models import Alert

ACTIONS = ["move_to_high_ground", "do_not_wade"]
MARK = "由officer撰写，未经审校"


def test_the_form_offers_each_action_with_the_hazard_levels_that_offer_it(client, people):
    sign_in(client, "officer")
    page = html.unescape(client.get("/compose").get_data(as_text=True))
    offered = re.search(r'<label class="action" data-offered="([^"]*)"><input[^>]*value="move_to_high_ground"[^>]*>'
                        r' <span>立即向高处转移</span>', page)
    assert offered and {"flash_flood:red", "flood:red"} <= set(offered.group(1).split())
    assert "earthquake:default" not in offered.group(1).split()


def test_ticked_actions_and_the_officers_tibetan_are_sent_and_marked_as_not_reviewed(client, people):
    sign_in(client, "officer")
    saved = compose(client, hazard="flash_flood", level="red", actions=ACTIONS, instruction_bo=TIBETAN)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    alert = db.session.scalar(select(Alert))
    assert alert.parameters["ACTION_CODE"] == "move_to_high_ground do_not_wade" and alert.instruction["bo"] == TIBETAN
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert f"藏文自由文本：{MARK}" in page
    assert page.count(f'<div class="tibetan-author">{MARK}</div>') == len(re.findall(r'<tr data-channel=', page))
    sms = re.search(r'<tr data-channel="sms">.*?</tr>', page, re.S).group(0)
    assert "立即向高处转移。不要涉水过河。" in sms and TIBETAN in sms
    assert MARK in client.get(f"/reports/alerts/{alert.id}").get_data(as_text=True)
    correct = compose(client, hazard="flash_flood", level="red", actions=ACTIONS)   # no Tibetan typed: no mark
    assert MARK not in client.get(correct.headers["Location"]).get_data(as_text=True)


def test_an_action_the_hazard_does_not_offer_or_tibetan_that_is_not_tibetan_is_refused(client, people):
    sign_in(client, "officer")
    wrong = compose(client, hazard="flash_flood", level="red", actions=["report_fire"])
    assert wrong.status_code == 422 and "report_fire" in html.unescape(wrong.get_data(as_text=True))
    chinese = compose(client, hazard="flash_flood", level="red", instruction_bo=CHINESE)
    assert chinese.status_code == 422 and "只能填写藏文" in chinese.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0
