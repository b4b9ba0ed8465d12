"""Losing one machine during a 100,000-recipient fan-out (issue 19, `make chaos-ha`): the PostgreSQL primary's
host and the Redis master's host (every process on it killed and its link down, as a power cut, not one process),
one app host's network. Each fault gets a fan-out of its own; the lost machine comes back before the fan-out ends.
After each: every delivery settled exactly once at the peer or failed with a reason, the duplicates at the gateway
counted and bounded by the batches in flight, nothing lost; an agency posting through the load balancer all along
got 2xx or 503 with Retry-After, every 2xx alert is in the database, and the time from the fault to its next 2xx is
measured.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from tests.chaos.harness import BATCH, RECIPIENTS, outcome, write_row
from tests.chaos.servers import wait_for
from tests.chaos.test_faults import Run, mid_fanout, settled
from tests.support.dispatch import new_alert, publish_now
from warning_service.extensions import db, redis_client
from warning_service.models import Alert, AlertState, County

from . import topology
from .conftest import WORKERS_IN_FLIGHT, Deployment, report_path

pytestmark = pytest.mark.chaos  # not in the default run (pytest.ini): `make chaos-ha`
SETTLE_TIMEOUT = 1200.0
BACK_TIMEOUT = 300.0      # the lost piece restarted and in sync again
CUT_SECONDS = 30.0        # how long the app host stays off the network
POST_EVERY = 0.5


@dataclass
class Answer:
    sent: float
    answered: float
    status: int | None
    retry_after: str | None
    alert_id: int | None


@dataclass
class AgencyLoop:
    """The seismic agency posting an Exercise earthquake report (published at once; no recipient is marked for
    exercises, so it adds no deliveries) through the load balancer every POST_EVERY s, each answer kept."""

    url: str
    headers: dict[str, str]
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="agency", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def next_publish_after(self, moment: float) -> float | None:
        """Seconds from `moment` to the first 2xx of a POST sent after it."""
        return next((round(answer.answered - moment, 1) for answer in self.answers
                     if answer.sent >= moment and answer.status is not None and 200 <= answer.status < 300), None)

    def _loop(self) -> None:
        while not self._stop.wait(POST_EVERY):
            self.answers.append(self._post())

    def _post(self) -> Answer:
        body = (b'{"status": "Exercise", "hazard": "earthquake", "area": {"counties": ["513301"]}, '
                b'"parameters": {"magnitude": 5.2, "depth_km": 10}, "expires": "'
                + (datetime.now(UTC) + timedelta(hours=2)).isoformat().encode() + b'"}')
        request = urllib.request.Request(f"{self.url}/api/v1/alerts", data=body, method="POST",
                                         headers={**self.headers, "Content-Type": "application/json"})
        sent = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Answer(sent, time.monotonic(), response.status, None, json.load(response)["id"])
        except urllib.error.HTTPError as error:
            return Answer(sent, time.monotonic(), error.code, error.headers.get("Retry-After"), None)
        except OSError:
            return Answer(sent, time.monotonic(), None, None, None)


def lose_postgres_primary(deployment: Deployment) -> tuple[str, Callable[[], None]]:
    host = deployment.database.primary()
    killed = topology.power_off(host)

    def back() -> None:
        topology.mend(host)
        deployment.database.run(host)
        deployment.database.wait_healthy(BACK_TIMEOUT)
    return f"{host}, the PostgreSQL primary's host, lost: its {killed} processes (PostgreSQL and its keeper) " \
           "SIGKILLed and its link down", back


def lose_redis_master(deployment: Deployment) -> tuple[str, Callable[[], None]]:
    redis = deployment.redis
    address = redis.address[redis.master_port]
    host, gone = topology.host_of(address), redis.ports_at(address)
    killed = topology.power_off(host)
    redis.await_promotion(lost=gone)

    def back() -> None:
        topology.mend(host)
        for port in gone:
            redis.revive(port)
        wait_for(redis._replica_in_sync, BACK_TIMEOUT, "the old master to come back as a replica")
    return f"{host}, the Redis master's host, lost: its {killed} processes (redis-server and a sentinel) SIGKILLed " \
           "and its link down", back


def cut_app_host(deployment: Deployment) -> tuple[str, Callable[[], None]]:
    topology.cut("app1")

    def back() -> None:
        time.sleep(CUT_SECONDS)
        topology.mend("app1")
    return f"app1's network down (ip link set eth0 down) for {CUT_SECONDS:.0f} s", back


FAULTS: dict[str, Callable[[Deployment], tuple[str, Callable[[], None]]]] = {
    "PostgreSQL primary's host lost": lose_postgres_primary,
    "Redis master's host lost": lose_redis_master,
    "app host's network cut": cut_app_host,
}


def fresh_start(deployment: Deployment, peers) -> None:
    """No deliveries, empty queues, quiet peers, every host's worker started anew."""
    for supervisor in deployment.supervisors.values():
        supervisor.stop()
    db.session.execute(text("TRUNCATE deliveries, delivery_attempts, early_receipts RESTART IDENTITY CASCADE"))
    db.session.commit()
    redis_client().flushdb()
    peers.reset()
    for supervisor in deployment.supervisors.values():
        supervisor.start()


@pytest.mark.parametrize("name", list(FAULTS))
def test_losing_a_machine_loses_nothing(name, deployment, peers):
    # Every fault starts from a primary with its synchronous standby (the previous fault's node back in sync).
    deployment.database.wait_healthy()
    assert deployment.database.synchronous_standby_names().startswith("ANY 1 ("), "commits wait for the standby"
    with deployment.app.app_context():
        fresh_start(deployment, peers)
        expected = RECIPIENTS + 2 * db.session.scalar(select(func.count()).select_from(County))
        counties = tuple(db.session.scalars(select(County.code)))
        started = time.monotonic()
        alert = publish_now(new_alert(counties))
        run = Run(deployment.app, deployment.database, deployment.redis, deployment, peers, alert.id)
        agency = AgencyLoop(deployment.lb.url, deployment.agency_headers)
        try:
            mid_fanout(run, 0.3)
            injected = time.monotonic()
            what, back = FAULTS[name](deployment)
            run.poll(lambda: agency.next_publish_after(injected) is not None, SETTLE_TIMEOUT, "the next publish")
            back()
            restored = round(time.monotonic() - injected, 1)
            run.poll(lambda: settled(run, expected), SETTLE_TIMEOUT, "every delivery in a final state")
            done = time.monotonic()
        finally:
            agency.stop()
        result = outcome(alert.id, peers)
        accepted = [answer.alert_id for answer in agency.answers if answer.alert_id is not None]
        # An exercise's plan waits on the low queue behind the fan-out: publishing or published, never gone.
        kept = set(db.session.scalars(select(Alert.id).where(
            Alert.id.in_(accepted), Alert.state.in_([AlertState.PUBLISHING, AlertState.PUBLISHED]))))
        statuses = Counter("2xx" if answer.status and 200 <= answer.status < 300 else
                           "503" if answer.status == 503 and answer.retry_after else "other"
                           for answer in agency.answers)
        others = [(answer.status, answer.retry_after) for answer in agency.answers
                  if not (answer.status and 200 <= answer.status < 300) and not (answer.status == 503 and answer.retry_after)]
    row = {
        "fault": name, "what": what, "planned": result.planned, "settled": result.settled, "failed": result.failed,
        "lost": result.lost, "duplicates": result.duplicates, "reposted_ebms": result.reposted_ebms,
        "next_publish_seconds": agency.next_publish_after(injected), "restored_seconds_after_fault": restored,
        "posts": {"2xx": statuses["2xx"], "503": statuses["503"], "other": statuses["other"]},
        "other_answers": others[:20], "accepted_lost": len(set(accepted) - kept),
        "settle_seconds_after_fault": round(done - injected, 1), "fanout_seconds": round(done - started, 1),
        "postgres_primary": deployment.database.primary(), "by_status": result.by_status,
    }
    write_row(report_path(), row)
    assert result.planned == expected
    assert result.lost == 0, "every delivery final, every failure with a reason, every sent one at its peer"
    assert result.duplicates["sms"] + result.duplicates["beidou"] <= WORKERS_IN_FLIGHT * BATCH, \
        "only the batches in flight may go twice"
    assert row["accepted_lost"] == 0, "every alert answered 2xx is in the database, published"
    assert not others, "every agency POST answered 2xx, or 503 with Retry-After"
