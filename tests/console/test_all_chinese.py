"""Every console page in the zh interface reads in Chinese, and in the bo interface in Tibetan or its marked
Chinese stand-ins: no English word left over (issue 14, item 3). Codes stay codes where machines read them."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask_babel import refresh
from sqlalchemy import select

from tests.support.console import csrf_token, fresh_request, make_user, post_form, sign_in, waiting_alert, work
from warning_service import directory
from warning_service.channels.beidou.terminals import TERMINALS
from warning_service.channels.broadcast.endpoints import ENDPOINTS
from warning_service.extensions import db
from warning_service.geography.pinyin import pinyin
from warning_service.models import Agency, AgencyKind, Alert, CapStatus, County, Level, Role, User
from warning_service.services.cbc_operators import add_operator

ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
# Legitimately Latin: the trilingual Actual/Exercise/Test marker (a safeguard, the same in every language),
# acronyms and units, the English name of the English interface in the language switch, Roman level
# numerals in the reviewed warning texts (templates_bo_zh).
ALLOWED = {"II", "III", "IV", "ACTUAL", "EXERCISE", "TEST", "CAP", "SMS", "CSV", "PDF", "API", "UTF", "JSON", "URL", "TOTP", "GSM", "UCS", "km", "mm",
           "http", "https", "English"}
PEOPLE = {"officer", "officer2", "auditor", "admin", "newcomer"}  # the users' own names
LANGUAGES = ("zh", "bo")


class VisibleText(HTMLParser):
    """The text a person reads: text nodes and placeholders, without scripts, styles and <code>."""

    HIDDEN = {"script", "style", "code", "title", "path"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        self.parts += [value or "" for name, value in attrs if name == "placeholder"]

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def place_names() -> set[str]:
    """County names in Latin letters (English and pinyin), which the county picker lists for searching."""
    words: set[str] = set()
    for county in db.session.scalars(select(County)):
        words |= set(ENGLISH_WORD.findall(f"{county.name_en} {pinyin(county.name_zh)}"))
    return words


def english_words(html: str, own_names: set[str]) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    text = re.sub(r"https?://\S+", " ", " ".join(parser.parts))
    return sorted({word for word in ENGLISH_WORD.findall(text)
                   if word not in ALLOWED and word not in own_names and word.lower() not in PEOPLE})


def speak(name: str, language: str) -> None:
    user = db.session.scalar(select(User).where(User.username == name))
    user.locale = language
    db.session.commit()
    fresh_request()
    refresh()  # the test's app context outlives requests: Flask-Babel's cached locale too


@pytest.fixture
def registered(app, people):
    """An agency, a county's broadcast platform and a BeiDou terminal, as the admin pages list them."""
    agency = Agency(name="甘孜州气象局", kind=AgencyKind.WEATHER, hazards=["rainstorm"], cap_senders=["w@test"],
                    auto_publish=True)
    db.session.add(agency)
    endpoint, _ = directory.add_target(db.session, None, "test", ENDPOINTS, "513301", None, False,
                                       {"url": "http://127.0.0.1:1/ebm", "secret": None})
    terminal, _ = directory.add_target(db.session, None, "test", TERMINALS, "513301", None, False, {"card": "1234567"})
    add_operator(db.session, None, "test", code="cmcc", name="中国移动", url="http://127.0.0.1:1/cap", failover_url=None,
                 token="t", callback_secret="s")
    db.session.commit()
    return agency.id, endpoint.id, terminal.id


def published_and_cancelled(app, client) -> tuple[int, int, int]:
    """A waiting alert, a published one with its delivery progress, and a cancellation."""
    waiting = waiting_alert(level=Level.ORANGE)
    published = waiting_alert(status=CapStatus.EXERCISE)
    page = f"/alerts/{published}"
    post_form(client, f"{page}/publish", page, confirm_status="Exercise")
    work(app)
    cancelled = waiting_alert(status=CapStatus.EXERCISE)
    page = f"/alerts/{cancelled}"
    post_form(client, f"{page}/publish", page, confirm_status="Exercise")
    work(app)
    post_form(client, f"{page}/cancel", page)
    work(app)
    return waiting, published, cancelled


def assert_in_language(client, path: str, own: set[str], status: int = 200, language: str | None = None) -> str:
    response = client.get(path, headers={"Accept": "text/html", **({"Accept-Language": language} if language else {})})
    assert response.status_code == status, path
    html = response.get_data(as_text=True)
    words = english_words(html, own)
    assert words == [], (path, words, [line for line in html.splitlines() if any(w in line for w in words)][:8])
    return html


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_console_page_reads_in_the_interface_language(app, client, registered, language):
    agency_id, endpoint_id, terminal_id = registered
    own = place_names() | set(ENGLISH_WORD.findall("w@test weather.demo@ews.example"))  # CAP senders
    for name in ("officer", "admin", "auditor"):
        speak(name, language)
    sign_in(client, "officer")
    waiting, published, cancelled = published_and_cancelled(app, client)
    for path in ("/", "/compose", f"/alerts/{waiting}", f"/alerts/{published}", f"/alerts/{cancelled}",
                 f"/alerts/{published}/correct", f"/reports/alerts/{published}",
                 f"/reports/alerts/{published}/log", "/reports/period"):
        assert_in_language(client, path, own)
    refused = client.post("/compose", data={"csrf_token": csrf_token(client, "/compose")})  # WTForms' own words
    assert refused.status_code == 422 and english_words(refused.get_data(as_text=True), own) == []
    assert_in_language(client, "/alerts/999999", own, status=404)
    assert_in_language(client, "/admin/", own, status=403)
    assert client.post("/language", data={"language": "xx"}, headers={"Accept": "text/html"}).status_code == 400
    bad = client.post("/language", headers={"Accept": "text/html"}, data={"language": "xx",
                                                                          "csrf_token": csrf_token(client, "/")})
    assert bad.status_code == 400 and english_words(bad.get_data(as_text=True), own) == []
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    sign_in(client, "admin")
    for path in ("/admin/", "/admin/agencies", "/admin/endpoints", f"/admin/agencies/{agency_id}",
                 f"/admin/broadcast/{endpoint_id}", f"/admin/beidou/{terminal_id}", "/admin/cbc/"):
        assert_in_language(client, path, own)
    taken = post_form(client, "/admin/beidou", "/admin/endpoints", **{"beidou-county": "513301",
                                                                      "beidou-card": "1234567"})
    assert taken.status_code == 409 and english_words(taken.get_data(as_text=True), own) == []  # a registry refusal
    short = post_form(client, "/admin/users", "/admin/", username="newcomer", role="auditor", password="x")
    assert short.status_code == 422 and english_words(short.get_data(as_text=True), own) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_sign_in_second_factor_and_enrolment_read_in_the_interface_language(app, client, people, language):
    own = set()
    headers = {"Accept-Language": language}
    assert_in_language(client, "/login", own, language=language)
    client.post("/login", headers=headers, data={"username": "officer", "password": "correct horse battery staple",
                                                 "csrf_token": csrf_token(client, "/login")})
    assert_in_language(client, "/login/code", own, language=language)
    make_user("newcomer", Role.DUTY_OFFICER, enrolled=False)
    speak("newcomer", language)
    other = app.test_client()
    sign_in(other, "newcomer")
    assert_in_language(other, "/mfa/enrol", own)


def test_pages_show_labels_and_keep_codes_in_data_attributes(app, client, registered):
    sign_in(client, "officer")
    waiting, published, _ = published_and_cancelled(app, client)
    page = client.get(f"/alerts/{published}").get_data(as_text=True)
    assert '<b id="state" data-state="published">已发布</b>' in page
    assert re.search(r'<tr data-channel="sms"><th>短信</th>', page)
    assert "UCS-2 短信" in page and "segments" not in page
    inbox = client.get("/").get_data(as_text=True)
    assert 'data-level="orange">橙色</span>' in inbox
    progress = client.get(f"/alerts/{published}/progress").get_json()
    assert progress["state"] == "published" and progress["state_label"] == "已发布"  # code and label
    assert {row["channel"] for row in progress["rows"]} <= {"sms", "broadcast", "beidou"}
    assert {row["label"] for row in progress["rows"]} <= {"短信", "县级应急广播", "北斗"}
    assert db.session.get(Alert, published).state.value == "published"


def test_the_english_interface_says_each_state_once(app, client, registered):
    sign_in(client, "officer")
    speak("officer", "en")
    alert = db.session.get(Alert, waiting_alert())
    alert.agency = db.session.get(Agency, registered[0])  # an agency that publishes at once
    db.session.commit()
    post_form(client, f"/alerts/{alert.id}/publish", f"/alerts/{alert.id}", confirm_status="Actual")
    inbox = client.get("/").get_data(as_text=True)
    assert "(published at once)" not in inbox and "Publishing, without review" in inbox
    assert ">pending_review<" not in client.get(f"/alerts/{waiting_alert()}").get_data(as_text=True)
