"""Guessing passwords is slowed: per username (many passwords) and per client address (password
spraying: one guess for each of many usernames, which the per-username lock alone let through)."""
from __future__ import annotations

from flask import g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.console import PASSWORD, sign_in
from warning_service.extensions import redis_client


def test_many_passwords_for_one_username_lock_it_even_for_the_right_one(app, client, people):
    limit = app.config["LOGIN_MAX_FAILURES"]
    statuses = [sign_in(client, "officer", f"guess-{n}").status_code for n in range(limit + 10)]
    assert statuses[:limit] == [401] * limit and set(statuses[limit:]) == {429}
    assert sign_in(client, "officer", PASSWORD).status_code == 429
    assert sign_in(client, "OFFICER", PASSWORD).status_code == 429  # the lock ignores case


def test_spraying_many_usernames_from_one_address_is_locked(app, client, people):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    statuses = [sign_in(client, f"user{n}", "Winter2026!").status_code for n in range(limit + 5)]
    assert statuses[:limit] == [401] * limit and set(statuses[limit:]) == {429}
    assert sign_in(client, "auditor", PASSWORD).status_code == 429  # a real account, from that address
    g.pop("csrf_token", None)  # the test's app context outlives requests: the token cached for the first client
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert sign_in(other, "auditor", PASSWORD).status_code == 302  # another address is not locked


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(username=st.text(max_size=120), password=st.text(max_size=250))
def test_odd_usernames_and_passwords_never_sign_in_nor_fail_the_server(app, client, people, username, password):
    redis_client().delete(*redis_client().keys("ews:login-failures*") or ["none"])
    response = sign_in(client, username, password)
    assert response.status_code in (400, 401), response.status_code
