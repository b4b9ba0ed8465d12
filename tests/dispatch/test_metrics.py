"""/metrics: not public, and it tells what the fan-out did, in this process and in worker processes."""
from __future__ import annotations

import hashlib

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Histogram
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from tests.support.console import make_user, sign_in
from tests.support.dispatch import new_alert, publish_now, start_worker, statuses, work
from warning_service import metrics
from warning_service.dispatch.reconcile import reconcile
from warning_service.extensions import db, redis_client
from warning_service.models import CbcOperator, Delivery, DeliveryAttempt, Role, utcnow

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


@pytest.mark.parametrize("seconds", [0.0, 0.5, 7.25, 4000.0])  # the first bucket, a bound, between bounds, +Inf
def test_observing_many_at_once_leaves_what_observing_each_would(seconds):
    """A batch's settled deliveries are one histogram update (metrics.observe_many), through the histogram's
    internals: this holds it to prometheus-client's own `observe`."""
    registry = CollectorRegistry()
    one_by_one = Histogram("one_by_one", "each", ["channel"], buckets=metrics.LATENCY_BUCKETS, registry=registry)
    at_once = Histogram("at_once", "all", ["channel"], buckets=metrics.LATENCY_BUCKETS, registry=registry)
    for _ in range(37):
        one_by_one.labels("sms").observe(seconds)
    metrics.observe_many(at_once.labels("sms"), seconds, 37)

    def exposed(name: str) -> dict[tuple, float]:
        return {(sample.name.removeprefix(name), tuple(sorted(sample.labels.items()))): sample.value
                for family in registry.collect() if family.name == name for sample in family.samples
                if not sample.name.endswith("_created")}

    assert exposed("at_once") == exposed("one_by_one")
    assert exposed("at_once")[("_count", (("channel", "sms"),))] == 37


def test_outcomes_are_counted_per_channel_and_each_delivery_settles_once_in_the_metrics(app, demo_targets, counting,
                                                                                      monkeypatch):
    """Results grouped once per outcome (not converted per result) still count every outcome the gateway
    gave, on its channel: accepted, transient (retried) and permanent, from the flaky SMS gateway."""
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "flaky")
    monkeypatch.setitem(app.config, "RETRY_BASE_SECONDS", 0.0)
    app.extensions.pop("sender", None)

    def counted() -> dict[str, float]:
        found = {f"result {outcome}": REGISTRY.get_sample_value(
            "ews_send_results_total", {"channel": "sms", "outcome": outcome}) or 0
                 for outcome in ("accepted", "transient", "permanent")}
        found |= {f"error {kind}": REGISTRY.get_sample_value(
            "ews_gateway_errors_total", {"channel": "sms", "kind": kind}) or 0 for kind in ("transient", "permanent")}
        found["settled"] = REGISTRY.get_sample_value("ews_publish_to_settled_seconds_count", {"channel": "sms"}) or 0
        return found

    before = counted()
    alert = publish_now(new_alert())
    work(app)
    reconcile(db.session, redis_client(), app.config, stale_after=0)  # the transient ones, retried
    work(app)
    attempts = dict(db.session.execute(
        select(DeliveryAttempt.outcome, func.count()).join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.alert_id == alert.id, Delivery.channel == "sms").group_by(DeliveryAttempt.outcome)).all())
    settled = db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.alert_id == alert.id, Delivery.channel == "sms", Delivery.status.in_(["sent", "failed"])))
    after = counted()
    assert attempts["accepted"] and attempts["transient"] and attempts["permanent"]
    assert {name: after[name] - before[name] for name in after} == {
        "result accepted": attempts["accepted"], "result transient": attempts["transient"],
        "result permanent": attempts["permanent"], "error transient": attempts["transient"],
        "error permanent": attempts["permanent"], "settled": settled}


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
