"""/metrics: not public, and it tells what the fan-out did, in this process and in worker processes."""
from __future__ import annotations

import hashlib

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from tests.support.console import make_user, sign_in
from tests.support.dispatch import new_alert, publish_now, start_worker, statuses, work
from warning_service.extensions import db
from warning_service.models import CbcOperator, Delivery, Role, utcnow

TOKEN = "scrape-me-please"


@pytest.fixture
def scraper(app, monkeypatch) -> dict[str, str]:
    monkeypatch.setitem(app.config, "METRICS_TOKEN_SHA256", hashlib.sha256(TOKEN.encode()).hexdigest())
    return {"Authorization": f"Bearer {TOKEN}"}


def samples(response) -> dict[tuple[str, tuple], float]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/plain"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def test_metrics_need_the_token(client, scraper):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert client.get("/metrics", headers=scraper).status_code == 200


@pytest.mark.parametrize("role, status", [(Role.ADMIN, 200), (Role.AUDITOR, 403), (Role.DUTY_OFFICER, 403)])
def test_metrics_for_signed_in_admins_only(client, role, status):
    make_user("someone", role)
    assert sign_in(client, "someone").status_code == 302
    assert client.get("/metrics").status_code == status


def test_no_token_configured_lets_no_scraper_in(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN_SHA256", "")
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 401


def test_a_fanout_shows_in_the_metrics(app, client, scraper, demo_targets, counting):
    def accepted() -> float:
        return REGISTRY.get_sample_value("ews_send_results_total", {"channel": "sms", "outcome": "accepted"}) or 0

    def first_sends() -> float:
        return REGISTRY.get_sample_value("ews_publish_to_first_send_seconds_count", {"channel": "sms"}) or 0

    before_accepted, before_first = accepted(), first_sends()
    alert = publish_now(new_alert())
    queued = samples(client.get("/metrics", headers=scraper))
    assert queued[("ews_queue_jobs", (("queue", "default"),))] == 1  # the plan job waits
    work(app)
    sms = db.session.scalar(select(func.count()).select_from(Delivery)
                            .where(Delivery.alert_id == alert.id, Delivery.channel == "sms"))
    assert sms and statuses(alert.id) == {"sent": statuses(alert.id)["sent"]}
    assert accepted() - before_accepted == sms
    assert first_sends() - before_first == 1, "first send is observed once per alert and channel"
    after = samples(client.get("/metrics", headers=scraper))
    assert after[("ews_live_deliveries", (("channel", "sms"), ("status", "sent")))] == sms
    assert after[("ews_queue_jobs", (("queue", "default"),))] == 0
    assert ("ews_gateway_call_seconds_count", (("channel", "sms"),)) in after


def test_worker_processes_report_through_the_multiprocess_directory(app, client, scraper, demo_targets, counting,
                                                                    tmp_path, monkeypatch):
    alert = publish_now(new_alert(("513301",)))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    worker = start_worker(app, "--burst", delay=0)
    assert worker.wait(timeout=120) == 0, worker.stderr.read().decode()[-2000:]
    db.session.remove()
    sent = statuses(alert.id)["sent"]
    monkeypatch.setitem(app.config, "PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    seen = samples(client.get("/metrics", headers=scraper))
    accepted = sum(value for (name, labels), value in seen.items()
                   if name == "ews_send_results_total" and ("outcome", "accepted") in labels)
    assert accepted == sent
    assert seen[("ews_publish_to_settled_seconds_count", (("channel", "sms"),))] > 0
    assert seen[("ews_live_deliveries", (("channel", "sms"), ("status", "sent")))] > 0


def test_each_tested_cbc_url_shows_up_or_down(client, scraper):
    db.session.add_all([
        CbcOperator(code="cmcc", name="cmcc", url="http://127.0.0.1:1/cap", failover_url="http://127.0.0.1:2/cap",
                    token="t", callback_secret="s", link_checked_at=utcnow(), link_primary_ok=True,
                    link_failover_ok=False),
        CbcOperator(code="cucc", name="cucc", url="http://127.0.0.1:3/cap", token="t", callback_secret="s"),
        CbcOperator(code="old", name="old", url="http://127.0.0.1:4/cap", token="t", callback_secret="s",
                    link_checked_at=utcnow(), link_primary_ok=False, active=False)])
    db.session.commit()
    found = {labels: value for (name, labels), value in samples(client.get("/metrics", headers=scraper)).items()
             if name == "ews_cbc_link_up"}
    assert found == {(("front", "failover"), ("operator", "cmcc")): 0.0, (("front", "primary"), ("operator", "cmcc")): 1.0}
