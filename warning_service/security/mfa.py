"""The second factor: TOTP (RFC 6238) codes from an authenticator app, and one-time recovery codes.

Enrolment sets a secret and confirms it with one code; only then is the user enrolled and given
ten recovery codes, shown once and stored as SHA-256 digests (80 random bits each, so a digest is
enough). A code is accepted for the current 30 s step or the one before or after (clock drift),
and never twice: the last accepted step is kept and no step up to it is accepted again. Nothing is
committed here; every enrolment, reset and recovery-code use is in the ledger.
"""
from __future__ import annotations

import hmac
import secrets
import time

import pyotp
import segno
from sqlalchemy.orm import Session

from ..audit.events import Actor, record
from ..models import RecoveryCode, Role, User, utcnow
from .accounts import end_sessions
from .api_keys import secret_digest

ISSUER = "Garze-Ngawa EWS"
RECOVERY_CODES = 10
DRIFT_STEPS = 1  # a code of the step before or after is still accepted
# Those who can publish (or manage who can) must use a second factor when MFA_REQUIRED is on.
MFA_REQUIRED_ROLES = frozenset({Role.DUTY_OFFICER, Role.ADMIN})


def must_enrol(user: User, mfa_required: bool) -> bool:
    """The user may not use the console before enrolling."""
    return mfa_required and user.role in MFA_REQUIRED_ROLES and not user.mfa_enrolled


def start_enrolment(user: User) -> str:
    """The secret being enrolled: a new one unless an enrolment is already under way."""
    if user.mfa_enrolled:
        raise ValueError("already enrolled: an admin resets the second factor first")
    if user.mfa_secret is None:
        user.mfa_secret = pyotp.random_base32()
    return user.mfa_secret


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.mfa_secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (drawn here: no outside service sees the secret)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def _accepted_step(secret: str, code: str, now: float) -> int | None:
    """The time step `code` belongs to, within the drift allowed; None if it belongs to none."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_code(user: User, code: str, now: float | None = None) -> bool:
    """A fresh TOTP code of the user's secret: accepted once, then its step (and every earlier one) is spent."""
    code = code.strip().replace(" ", "")
    if user.mfa_secret is None or not code.isdigit() or len(code) != 6:
        return False
    step = _accepted_step(user.mfa_secret, code, time.time() if now is None else now)
    if step is None or (user.mfa_last_step is not None and step <= user.mfa_last_step):
        return False
    user.mfa_last_step = step
    return True


def _new_recovery_code() -> str:
    raw = secrets.token_hex(10)
    return f"{raw[:5]}-{raw[5:10]}-{raw[10:15]}-{raw[15:]}"


def _normalised(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


def confirm_enrolment(session: Session, user: User, code: str, via: str) -> list[str] | None:
    """Confirm the secret with one code: the recovery codes (to show once), or None for a wrong code."""
    if user.mfa_enrolled or not check_code(user, code):
        return None
    user.mfa_enrolled_at = utcnow()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    user.recovery_codes = [RecoveryCode(code_hash=secret_digest(_normalised(plain))) for plain in codes]
    record(session, user, "user.mfa_enrol", user, via=via, username=user.username)
    return codes


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    """Spend one unused recovery code of the user's (each works once), recorded in the ledger."""
    wanted = secret_digest(_normalised(code))
    for recovery in user.recovery_codes:
        if recovery.used_at is None and hmac.compare_digest(recovery.code_hash, wanted):
            recovery.used_at = utcnow()
            left = sum(1 for other in user.recovery_codes if other.used_at is None)
            record(session, user, "user.mfa_recovery_used", user, username=user.username, left=left)
            return True
    return False


def reset(session: Session, actor: Actor, via: str, user: User) -> None:
    """Forget the user's second factor (a lost phone) and end their sessions; they enrol again."""
    user.mfa_secret = None
    user.mfa_enrolled_at = None
    user.mfa_last_step = None
    user.recovery_codes = []
    end_sessions(user)
    record(session, actor, "user.mfa_reset", user, via=via, username=user.username)
