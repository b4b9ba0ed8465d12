"""Where the test sessions find PostgreSQL and Redis, and the key by which a session claims a Redis database."""
from __future__ import annotations

import os

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_SERVER = os.environ.get("TEST_REDIS_SERVER", "redis://127.0.0.1:6379")
REDIS_CLAIM_KEY = "ews:test-session"
