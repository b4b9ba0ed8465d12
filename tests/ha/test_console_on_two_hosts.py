"""Two app hosts with the same settings (issue 19): a console session and its CSRF tokens from one are good on
the other, both ways, and signing out on one ends the session on the other. Two gunicorn processes, as the two
hosts run them, over the test's database and Redis; one browser, whose cookies both hosts get."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests

from tests.chaos.harness import ROOT, Web
from tests.support.console import fresh_code, state_of
from tests.support.console_http import Browser
from warning_service.extensions import db
from warning_service.models import AlertState


@pytest.fixture
def app_hosts(app, tmp_path) -> Iterator[tuple[str, str]]:
    """The base URLs of two web processes in production mode (the second factor required), same settings."""
    env = {**os.environ, "CHAOS_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), "WARNING_SERVICE_ENV": "production",
           "SECRET_KEY": app.config["SECRET_KEY"], "DATABASE_URL": str(app.config["SQLALCHEMY_DATABASE_URI"]),
           "REDIS_URL": app.config["REDIS_URL"], "LOG_LEVEL": "WARNING"}
    webs: list[Web] = []
    try:
        webs.extend(Web(env) for _ in range(2))
        yield f"http://{webs[0].host}:{webs[0].port}", f"http://{webs[1].host}:{webs[1].port}"
    finally:
        for web in webs:
            web.stop()


def test_a_session_and_its_forms_are_good_on_either_app_host(app, app_hosts, people):
    first, second = app_hosts
    for officer, (one, other) in (("officer", (first, second)), ("officer2", (second, first))):
        browser = Browser()
        signed_in = browser.sign_in(officer, fresh_code(officer), form_from=one, post_to=one)
        assert signed_in.status_code == 302 and "/login" not in signed_in.headers["Location"]
        alert_id = browser.publish_an_exercise(one, other)
        db.session.rollback()  # a fresh look at what the servers wrote
        assert state_of(alert_id) in (AlertState.PUBLISHING, AlertState.PUBLISHED)


def test_signing_out_on_one_app_host_ends_the_session_on_the_other(app, app_hosts, people):
    first, second = app_hosts
    browser = Browser()
    browser.sign_in("officer", fresh_code("officer"), form_from=first, post_to=second)
    assert browser.signed_in_at(f"{first}/compose") and browser.signed_in_at(f"{second}/compose")
    captured = browser.http.cookies.copy()
    signed_out = browser.submit(f"{second}/", f"{second}/logout")
    assert signed_out.status_code == 302
    assert not browser.signed_in_at(f"{first}/compose")
    # The cookie as it was before signing out, replayed on the host that did not sign out: the session is over.
    replayed = requests.get(f"{first}/compose", cookies=captured, allow_redirects=False, timeout=30)
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]
