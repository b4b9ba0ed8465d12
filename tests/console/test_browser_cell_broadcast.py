"""Cell broadcast in a real browser (issue 16, "Done when"): a duty officer targets the named area Hailuogou (海螺沟)
by name, previews each language's handset text in CBS pages of 15, the operators and the polygon each gets on the
map, publishes, watches each operator's CBC accept it and report its cells, and cancels in one click; each CBC
gets a Cancel naming what it got. The CBCs are real peers on loopback (peers/cbc_peer.py, the `cbcs` fixture)
that check the CAP and call back signed. In Chinese and Tibetan; screenshots in test-artifacts/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from peers.cbc_peer import OPERATORS
from tests.support.browser import begin_compose, in_language, shot, sign_in
from tests.support.console import expiry_in, work
from warning_service.extensions import db
from warning_service.models import Alert, MsgType

TIBETAN = re.compile(r"[\u0F40-\u0FBC]")
PAGES = re.compile(r"小区广播 (\d+)/15 页")  # bo: the catalog's Chinese stand-in
TIMEOUT = 20_000  # ms: a poll every 2 s, the peers' callbacks within a second of the worker's send
SENDER = "console@ews.garze-ngawa.example"


def map_polygons(page: Page, code: str) -> list[list[tuple[float, float]]]:
    """The (lat, lon) points of the polygons the map says operator `code`'s CBC gets."""
    texts = page.locator(f"#area-map polygon[data-operator={code}]").evaluate_all(
        "polygons => polygons.map(polygon => polygon.dataset.cap)")
    return [[(float(lat), float(lon)) for lat, lon in (pair.split(",") for pair in text.split())] for text in texts]


def preview(page: Page, cbcs: dict) -> dict[str, list[list[tuple[float, float]]]]:
    """Check the preview: both handset texts with their pages, the operators, one polygon each on the map within
    its CBC's limit; the polygons drawn, by operator."""
    for language in ("zh", "bo"):
        cell = page.locator(f"tr[data-channel=cell_broadcast] td[lang={language}]")
        expect(cell.locator(".message")).to_contain_text(TIBETAN if language == "bo" else "暴雨")
        expect(cell.locator(".measure")).to_contain_text(PAGES)
        pages = int(PAGES.search(cell.locator(".measure").inner_text()).group(1))
        assert 1 <= pages <= 15
    drawn = {}
    for code, peer in cbcs.items():
        expect(page.locator("#cbc-reach")).to_contain_text(OPERATORS[code])
        expect(page.locator(f"#area-map polygon[data-operator={code}]")).to_have_count(1)
        legend = page.locator(f"#area-map-legend li[data-operator={code}]")
        expect(legend).to_contain_text(f"上限 {peer.max_vertices}")
        drawn[code] = map_polygons(page, code)
        assert sum(map(len, drawn[code])) <= peer.max_vertices
    expect(page.locator("#area-map path[data-area=hailuogou]")).to_have_count(1)
    expect(page.locator("#area-map-legend")).to_contain_text("命名区域：海螺沟")
    return drawn


@pytest.mark.parametrize("language", ["zh", "bo"])
def test_browser_cell_broadcast_to_hailuogou_previewed_published_and_cancelled(app, page, people, cbcs, hailuogou,
                                                                               request, language):
    name = request.node.callspec.id
    sign_in(page, "officer")
    in_language(page, language)
    begin_compose(page, "Actual", "orange")
    page.locator("#named-area-list label", has_text="海螺沟").locator("input").check()  # by name, no county ticked
    expect(page.locator("#county-map path[data-area=hailuogou]")).to_have_class(re.compile("selected"))
    page.fill("input[name=expires]", expiry_in()[0])
    page.fill("input[name=headline]", "海螺沟景区暴雨橙色预警")
    shot(page, f"cbc-compose-{name}")
    page.click("#save-alert")

    drawn = preview(page, cbcs)
    expect(page.locator("#named-areas")).to_contain_text("海螺沟")
    shot(page, f"cbc-preview-{name}")
    alert_id = int(page.url.rsplit("/", 1)[1])

    page.check("input[name=confirm_status]")
    page.click("button.publish")
    expect(page.locator("#cbc-progress")).to_be_visible()
    work(app)
    for code, peer in cbcs.items():
        row = page.locator(f"#cbc-progress tr[data-operator={code}]")
        expect(row).to_have_attribute("data-state", "completed", timeout=TIMEOUT)
        [alert] = peer.received()
        assert (alert.extra["identifier"], alert.extra["msg_type"]) == (f"EWS-{alert_id}-{code}", "Alert")
        assert alert.extra["polygons"] == drawn[code]  # the map showed what the CBC got
        reported = peer.callbacks()[-1].body
        cells = row.locator("td")
        expect(cells.nth(0)).to_have_text(OPERATORS[code])
        expect(cells.nth(1)).to_contain_text(re.compile(r"\d\d:\d\d"))  # accepted, in Beijing time
        expect(cells.nth(3)).to_have_text(str(reported["cells"]))
        expect(cells.nth(4)).to_have_text(str(reported["failed_cells"]))
        assert reported["state"] == "completed" and reported["cells"] > 0
    expect(page.locator("#progress")).to_have_attribute("data-settled", "true", timeout=TIMEOUT)
    shot(page, f"cbc-progress-{name}")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-alert")  # one click, one question
    expect(page.locator("#cancellation-banner")).to_be_visible()
    work(app)
    cancellation = db.session.scalar(select(Alert).where(Alert.msg_type == MsgType.CANCEL))
    for code, peer in cbcs.items():
        assert [message.extra["msg_type"] for message in peer.received()] == ["Alert", "Cancel"]
        cancel = peer.received()[1].extra
        assert cancel["identifier"] == f"EWS-{cancellation.id}-{code}"
        assert cancel["references"] == [(SENDER, f"EWS-{alert_id}-{code}")]  # what this CBC got, and only that
        expect(page.locator(f"#cbc-progress tr[data-operator={code}]")).to_have_attribute(
            "data-state", "", timeout=TIMEOUT)  # the Cancel accepted; a CBC reports on the broadcasts it stops
    assert all(not peer.refusals() for peer in cbcs.values())
    shot(page, f"cbc-cancellation-{name}")

    for peer in cbcs.values():  # each CBC reports the broadcast it stopped (broadcasting, completed, cancelled)
        assert [(callback.body["state"], callback.answered) for callback in peer.wait_for_callbacks(3)][-1] == \
            ("cancelled", 200)
    page.click(f"#cancellation-banner a[href='/alerts/{alert_id}']")
    expect(page.locator("#cancelled-banner")).to_be_visible()
    for code in cbcs:
        row = page.locator(f"#cbc-progress tr[data-operator={code}]")
        expect(row).to_have_attribute("data-state", "cancelled", timeout=TIMEOUT)
        expect(row.locator("td").nth(2)).to_have_text("已因取消而停止")  # bo: the catalog's Chinese stand-in
    shot(page, f"cbc-cancelled-{name}")
