"""worker.py with the test gateways registered: the production worker, only the gateway differs."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.dispatch.gateways import register  # noqa: E402

register()

import worker  # noqa: E402

worker.main()
