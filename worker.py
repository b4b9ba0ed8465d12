"""Start an RQ worker on the priority queues, highest first.

    python worker.py           # runs until stopped
    python worker.py --burst   # works until the queues are empty, then exits
"""
from __future__ import annotations

import argparse

from rq import Worker

from warning_service import create_app
from warning_service.extensions import queues, redis_client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", action="store_true", help="exit once the queues are empty")
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        worker = Worker(queues(), connection=redis_client())
        worker.work(burst=args.burst)


if __name__ == "__main__":
    main()
