"""Start an RQ worker on the priority queues, highest first.

    python worker.py                    # runs until stopped
    python worker.py --burst            # works until the queues are empty, then exits
    python worker.py --queues critical  # only these queues: a worker kept free for warnings that cannot wait

Any number of these, on any number of machines, share one Redis and one
database. Each also runs the reconciler on a schedule (one at a time across
all workers), so deliveries left behind by a dead worker or an emptied Redis
go out again.
"""
from __future__ import annotations

import argparse
import logging

from flask import Flask
from rq import SimpleWorker
from rq.exceptions import StopRequested

from warning_service.app import create_app
from warning_service.dispatch.content import warm_up
from warning_service.dispatch.jobs import sender
from warning_service.dispatch.reconcile import ReconcileReport, run_if_due
from warning_service.extensions import QUEUE_NAMES, db, queues, redis_client

logger = logging.getLogger("warning_service.worker")


class DispatchWorker(SimpleWorker):
    """Runs jobs in its own process (no fork per job: a fan-out is thousands of
    short jobs sharing one database pool) and reconciles between jobs."""

    app: Flask

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        try:
            report = run_if_due(db.session, self.connection, self.app.config)
            if report:
                log_reconciler_report(report)
            if report and report.head_problem:  # at most once per LEDGER_SIGN_INTERVAL_SECONDS
                logger.error("the audit ledger's head was not signed: %s", report.head_problem)
        except StopRequested:  # SIGTERM while reconciling: RQ's own way of ending the work loop, not a failure
            raise
        except Exception:  # a failed pass is retried at the next interval; the worker keeps working
            logger.exception("reconciler pass failed")
            db.session.rollback()
        finally:
            db.session.remove()


def log_reconciler_report(report: ReconcileReport) -> None:
    """Trouble at WARNING; the routine requeueing of rate-limited rows and sealing at INFO, an idle pass at DEBUG,
    so a normal fan-out does not page anyone every second."""
    level = logging.WARNING if report.found_trouble else logging.INFO if report.did_anything else logging.DEBUG
    logger.log(level, "reconciler: %s", report, extra={
        "reclaimed": report.reclaimed, "requeued": report.requeued, "plans": report.plans,
        "failed_over": report.failed_over, "sealed": report.sealed})


def queue_names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in QUEUE_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"{', '.join(unknown) or 'none given'}: choose among {', '.join(QUEUE_NAMES)}")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", action="store_true", help="exit once the queues are empty")
    parser.add_argument("--queues", type=queue_names, default=QUEUE_NAMES,
                        help=f"comma-separated, served highest first (default: {','.join(QUEUE_NAMES)})")
    args = parser.parse_args()
    app = create_app()
    interval = int(app.config["RECONCILE_INTERVAL_SECONDS"])
    with app.app_context():
        warm_up(app.config)
        sender()  # the adapters, built before the first job needs them
        chosen = [queue for queue in queues() if queue.name in args.queues]
        worker = DispatchWorker(chosen, connection=redis_client(), maintenance_interval=interval,
                                worker_ttl=interval + 15)  # wakes from an idle wait every `interval` seconds
        worker.app = app
        worker.work(burst=args.burst, logging_level="WARNING")


if __name__ == "__main__":
    main()
