"""A duty officer at the console through haproxy, which spreads the requests over both app hosts one by one
(roundrobin, no stickiness): signs in with password and TOTP code, composes an Exercise, publishes it and
signs out, each form opened on whichever host haproxy chose and posted to whichever it chose next. Runs
before the faults (`make chaos-ha`)."""
from __future__ import annotations

import pytest

from tests.chaos.servers import wait_for
from tests.support.console import fresh_code, make_user, state_of
from tests.support.console_http import Browser
from warning_service.extensions import db
from warning_service.models import AlertState, Role

from .conftest import APP_HOSTS, Deployment

pytestmark = pytest.mark.chaos  # not in the default run (pytest.ini): `make chaos-ha`
PUBLISHED_WITHIN = 120.0  # an Exercise's plan on the low queue, with no fan-out ahead of it
OFFICER = "chaos-officer"


def test_an_officer_signs_in_and_publishes_with_requests_spread_over_both_app_hosts(deployment: Deployment):
    base = deployment.lb.url
    with deployment.app.app_context():
        make_user(OFFICER, Role.DUTY_OFFICER)
        browser = Browser()
        signed_in = browser.sign_in(OFFICER, fresh_code(OFFICER), form_from=base, post_to=base)
        assert signed_in.status_code == 302 and "/login" not in signed_in.headers["Location"]
        alert_id = browser.publish_an_exercise(base, base)

        def is_published() -> bool:
            db.session.rollback()
            return state_of(alert_id) == AlertState.PUBLISHED
        wait_for(is_published, PUBLISHED_WITHIN, f"the officer's exercise {alert_id} to be published", interval=1)
        signed_out = browser.submit(f"{base}/", f"{base}/logout")
        assert signed_out.status_code == 302
        # Roundrobin: one request to each app host, both send the browser to sign in.
        assert [browser.signed_in_at(f"{base}/compose") for _ in APP_HOSTS] == [False] * len(APP_HOSTS)
    for form in browser.forms:
        print(f"{form.page}: opened on {form.opened_on}, posted to {form.posted_to}")
    assert {host for form in browser.forms for host in (form.opened_on, form.posted_to)} == set(APP_HOSTS)
    assert any(form.opened_on != form.posted_to for form in browser.forms), "a form crossed from one host to the other"
