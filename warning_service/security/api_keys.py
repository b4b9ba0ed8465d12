"""Agency API keys: issued once in plain text, stored as a digest, looked up by prefix."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from ..audit.events import Actor, record
from ..models import Agency, ApiKey, utcnow

KEY_PREFIX = "ews"
# A key's last use is kept to the minute: writing it on every request would cost each POST an
# UPDATE, and serialise an agency's concurrent requests on its key's row.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Built once: every agency request runs it, and building it each time was a fifth of the lookup's CPU.
_KEY_WITH_AGENCY = (select(ApiKey).options(joinedload(ApiKey.agency).joinedload(Agency.senders))
                    .where(ApiKey.prefix == bindparam("prefix")))


@dataclass(frozen=True)
class IssuedKey:
    plaintext: str  # shown once, never stored
    prefix: str
    digest: str


def secret_digest(plaintext: str) -> str:
    """SHA-256 hex: enough for long random secrets (password hashing is for secrets people choose)."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def issue_key() -> IssuedKey:
    prefix = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedKey(plaintext=plaintext, prefix=prefix, digest=secret_digest(plaintext))


def add_key(session: Session, agency: Agency) -> str:
    """Give the agency a new live key (older keys stay live until revoked) and return it."""
    issued = issue_key()
    session.add(ApiKey(agency=agency, prefix=issued.prefix, key_hash=issued.digest))
    return issued.plaintext


def issue_agency_key(session: Session, agency: Agency, actor: Actor = None, via: str = "cli") -> str:
    """A new live key for the agency, with its audit entry; returns the plaintext (shown once)."""
    plaintext = add_key(session, agency)
    session.flush()
    key = session.scalar(select(ApiKey).where(ApiKey.agency_id == agency.id).order_by(ApiKey.id.desc()).limit(1))
    record(session, actor, "api_key.issue", key, via=via, agency=agency.name, prefix=key.prefix)
    return plaintext


def revoke_agency_key(session: Session, key: ApiKey, actor: Actor = None, via: str = "cli") -> None:
    key.revoked_at = utcnow()
    record(session, actor, "api_key.revoke", key, via=via, agency=key.agency.name, prefix=key.prefix)


def agency_for_key(session: Session, plaintext: str) -> Agency | None:
    """The active agency holding this live key, or None. Its CAP senders come in the same query: intake
    checks the sender of every message, and a round trip of its own would delay every warning."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    api_key = session.execute(_KEY_WITH_AGENCY, {"prefix": parts[1]}).unique().scalar_one_or_none()
    if api_key is None or api_key.revoked_at is not None:
        return None
    if not hmac.compare_digest(api_key.key_hash, secret_digest(plaintext)):
        return None
    if not api_key.agency.active:
        return None
    now = utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        api_key.last_used_at = now
    return api_key.agency
