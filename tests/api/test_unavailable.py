"""A request whose database or Redis connection is cut mid-way (a failover) is told to come back: 503 with
Retry-After, problem+json for machines and a page in the reader's language for people, never a 500."""
from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from tests.support.api import good_body, post
from tests.support.console import PASSWORD, csrf_token
from warning_service.web import api, auth

LOST = [OperationalError("INSERT INTO alerts", {}, Exception("terminating connection due to administrator command")),
        RedisConnectionError("Error 111 connecting to 10.0.0.11:6379. Connection refused.")]


def lose_connection(error: Exception):
    def failing(*args, **kwargs):
        raise error
    return failing


@pytest.mark.parametrize("error", LOST, ids=["database", "redis"])
def test_an_agency_post_that_loses_its_connection_is_503_with_retry_after(client, weather, monkeypatch, error):
    monkeypatch.setattr(api, "ingest", lose_connection(error))
    response = post(client, weather[1], good_body())
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/problem+json"
    assert "repeat the request" in response.get_json()["detail"]


@pytest.mark.parametrize("error", LOST, ids=["database", "redis"])
def test_a_sign_in_that_loses_its_connection_is_a_503_page_in_chinese(client, people, monkeypatch, error):
    monkeypatch.setattr(auth, "_locked_for", lose_connection(error))
    response = client.post("/login", data={"username": "officer", "password": PASSWORD, "csrf_token": csrf_token(client, "/login")},
                           headers={"Accept": "text/html"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "暂时无法使用" in page and "数据库或队列正在切换服务器" in page
