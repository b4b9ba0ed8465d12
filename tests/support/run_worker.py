"""worker.py with the test gateways registered: the production worker, only the gateway differs.

TEST_RECONCILE_DELAY=S makes each reconciler pass first say "reconciling" on stderr and wait S
seconds, so a test can signal the worker while it reconciles.
"""
import os
import sys
import time
from pathlib import Path

# The repository in place of this script's directory, whose helper modules would shadow packages of the same name.
sys.path[0] = str(Path(__file__).resolve().parents[2])

from tests.support.gateways import register  # noqa: E402

register()

import worker  # noqa: E402

if reconcile_delay := float(os.environ.get("TEST_RECONCILE_DELAY", "0")):
    run_if_due = worker.run_if_due

    def reconcile_slowly(*args):
        print("reconciling", file=sys.stderr, flush=True)
        time.sleep(reconcile_delay)
        return run_if_due(*args)

    worker.run_if_due = reconcile_slowly

worker.main()
