"""Putting work on the priority queues: which queue an alert goes to, and batches of delivery ids."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from ..hazards import catalogue
from ..models import Alert, CapStatus

logger = logging.getLogger(__name__)
JOB_TIMEOUT_SECONDS = 90   # below SENDING_TIMEOUT_SECONDS, so a hung job is over before its rows are reclaimed
RESULT_TTL_SECONDS = 60    # results are in the database; Redis keeps them briefly


def queue_name(alert: Alert) -> str:
    """critical for earthquake early warning and red alerts, down to low; exercises never compete with real warnings."""
    if alert.status != CapStatus.ACTUAL:
        return "low"
    hazard = catalogue().get(alert.hazard_code) if alert.hazard_code else None
    level = alert.level.value if alert.level else None
    return hazard.queue_for(level) if hazard else "default"


@dataclass(frozen=True)
class Fanout:
    """What queueing an alert's plan needs, read while the alert is loaded: after a commit has expired
    it, reading them would load the alert again, a round trip on the warning's path to its first job."""

    alert_id: int
    queue: str

    @classmethod
    def of(cls, alert: Alert) -> Fanout:
        return cls(alert.id, queue_name(alert))


def enqueue_plan(connection: Redis, alert: Alert | Fanout) -> None:
    """Queue the first step of an alert's plan (publish -> plan steps -> batches)."""
    fanout = alert if isinstance(alert, Fanout) else Fanout.of(alert)
    Queue(fanout.queue, connection=connection).enqueue_many([_plan_job(fanout.alert_id, None)])


def _plan_job(alert_id: int, cursor: tuple[int, int, int] | None):
    from .jobs import plan_alert

    return Queue.prepare_data(plan_alert, args=(alert_id, cursor), timeout=JOB_TIMEOUT_SECONDS,
                              result_ttl=RESULT_TTL_SECONDS, failure_ttl=86_400)


def enqueue_link_tests(connection: Redis) -> None:
    """The CBCs' link tests, behind every warning (the low queue)."""
    from .jobs import check_cbc_links

    Queue("low", connection=connection).enqueue(check_cbc_links, job_timeout=JOB_TIMEOUT_SECONDS,
                                                result_ttl=RESULT_TTL_SECONDS, failure_ttl=86_400)


def _batch_jobs(delivery_ids: Sequence[int], batch_size: int, at_front: bool = False) -> list:
    from .jobs import send_batch

    return [
        Queue.prepare_data(send_batch, args=(list(delivery_ids[start:start + batch_size]),),
                           timeout=JOB_TIMEOUT_SECONDS, result_ttl=RESULT_TTL_SECONDS, failure_ttl=86_400,
                           at_front=at_front)
        for start in range(0, len(delivery_ids), batch_size)
    ]


def enqueue_step(connection: Redis, fanout: Fanout, delivery_ids: Sequence[int],
                 next_cursor: tuple[int, int, int] | None, batch_size: int) -> int:
    """Queue a plan step's batches with the next step between the first batch and the rest:
    the first message leaves at once, and a second worker writes the next chunk meanwhile."""
    batches = _batch_jobs(delivery_ids, batch_size)
    follow = [_plan_job(fanout.alert_id, next_cursor)] if next_cursor is not None else []
    jobs = batches[:1] + follow + batches[1:]
    if jobs:
        Queue(fanout.queue, connection=connection).enqueue_many(jobs)
    return len(batches)


def start_fanout(connection: Redis, fanout: Fanout) -> bool:
    """Queue the plan of a just-committed publish (`Fanout.of` the alert before that commit). If Redis is
    down the alert stays 'publishing' in the database and the reconciler starts it when Redis is back."""
    try:
        enqueue_plan(connection, fanout)
        return True
    except RedisError:
        logger.exception("could not queue the fan-out of alert %s; the reconciler will", fanout.alert_id,
                         extra={"alert_id": fanout.alert_id})
        return False


def enqueue_batches(connection: Redis, name: str, delivery_ids: Sequence[int], batch_size: int,
                    at_front: bool = False) -> int:
    """Queue the ids in batches, one RQ job each, in one round trip; returns the number of jobs. `at_front`
    (a paced channel's rows: `ChannelSpec.paced`): ahead of the jobs already waiting, in the ids' order."""
    jobs = _batch_jobs(delivery_ids, batch_size, at_front)
    if at_front:
        jobs.reverse()  # each is pushed onto the front in turn: the last pushed runs first
    if jobs:
        Queue(name, connection=connection).enqueue_many(jobs)
    return len(jobs)
