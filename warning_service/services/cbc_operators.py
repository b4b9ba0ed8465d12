"""Registering the operators' Cell Broadcast Centres (the admin page and `flask endpoints add-cbc` share
these).

No Flask here. Bad input raises CbcOperatorRefused naming the field at fault; nothing is committed.
Every change is in the ledger with the acting admin. The bearer token and the callback secret are
stored as given (the adapter sends the one, the webhook checks signatures with the other) but never
put in a ledger entry or shown back: the ledger records that they were set, not what they are.
Removing deactivates: deliveries and callbacks keep naming the row, and a code is never reused.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.events import Actor, record
from ..channels.cell_broadcast.cover import MIN_VERTICES
from ..channels.cell_broadcast.identifiers import DEFAULT_IDENTIFIERS, PWS_RANGE, check_overrides
from ..models import CbcOperator, User
from ..models.cbc_operator import DEFAULT_MAX_VERTICES, MAX_CODE, MAX_NAME, MAX_URL
from ..registration import RegistryError

CODE = re.compile(rf"[a-z][a-z0-9_-]{{1,{MAX_CODE - 1}}}", re.ASCII)  # cmcc, cucc, ctcc, cmcc-exercise
MAX_VERTICES = 10_000  # far above any CBC's limit; a typo's extra zeros are caught
# An identifier override as an admin types it: key=first,additional (e.g. red=4370,4383).
_OVERRIDE = re.compile(r"\s*([a-z_]+)\s*=\s*(\d+)\s*,\s*(\d+)\s*")

# Why an operator is refused: a stable code and its English text (the CLI's). The admin page words them
# in the reader's language by code (web/cbc_operators.py); keep the two in step.
REFUSAL_TEXTS: Mapping[str, str] = {
    "code_malformed": "a code has 2 to %(max)s characters, lowercase ASCII letters, digits, '-' or '_', beginning "
                      "with a letter: %(given)r",
    "code_taken": "the code %(given)r is already the operator %(name)r (codes are never reused)",
    "name_length": "a name has 1 to %(max)s characters",
    "url_malformed": "give the CBC's http:// or https:// URL (at most %(max)s characters)",
    "failover_same": "the failover URL must differ from the primary URL",
    "token_empty": "the bearer token cannot be empty",
    "secret_empty": "the callback secret cannot be empty",
    "max_vertices_range": "a CBC takes %(min)s to %(max)s polygon vertices",
    "identifiers_malformed": "give identifier overrides as KEY=FIRST,ADDITIONAL (e.g. red=4370,4383): %(given)r",
    "identifiers_key": "%(key)r is not an identifier key; the keys are %(keys)s",
    "identifiers_range": "%(key)s: identifiers are whole numbers from %(low)s to %(high)s (TS 23.041's public "
                         "warning range)",
    "operator_inactive": "the operator %(operator)s is already inactive",
}


class CbcOperatorRefused(RegistryError):
    """Input the operator registry refuses (see RegistryError): `field` is code, name, url, failover_url,
    token, callback_secret, max_vertices or identifiers."""

    texts = REFUSAL_TEXTS


def parse_identifiers(given: str | Iterable[str] | None) -> dict[str, list[int]]:
    """Identifier overrides from "red=4370,4383" items (a list, or one text separated by ';' or lines),
    checked against TS 23.041's public-warning range (identifiers.check_overrides)."""
    items = re.split(r"[;\r\n]+", given) if isinstance(given, str) else list(given or ())
    overrides: dict[str, list[int]] = {}
    for item in (item for item in items if item.strip()):
        match = _OVERRIDE.fullmatch(item)
        if match is None:
            raise CbcOperatorRefused("identifiers", "identifiers_malformed", given=item.strip()[:60])
        key, pair = match[1], [int(match[2]), int(match[3])]
        if key not in DEFAULT_IDENTIFIERS:
            raise CbcOperatorRefused("identifiers", "identifiers_key", key=key, keys=", ".join(DEFAULT_IDENTIFIERS))
        if check_overrides({key: pair}):
            raise CbcOperatorRefused("identifiers", "identifiers_range", key=key, low=PWS_RANGE.start,
                                     high=PWS_RANGE.stop - 1)
        overrides[key] = pair
    return overrides


def add_operator(session: Session, actor: Actor, via: str, *, code: str, name: str, url: str,
                 failover_url: str | None, token: str, callback_secret: str,
                 max_vertices: int | None = None, exercise: bool = False,
                 identifiers: str | Iterable[str] | None = None) -> CbcOperator:
    """Register an operator's CBC; its token and callback secret are stored, never audited."""
    code = (code or "").strip()
    if not CODE.fullmatch(code):
        raise CbcOperatorRefused("code", "code_malformed", max=MAX_CODE, given=code[:60])
    name = (name or "").strip()
    if not 0 < len(name) <= MAX_NAME:
        raise CbcOperatorRefused("name", "name_length", max=MAX_NAME)
    url = _url("url", url)
    failover_url = _url("failover_url", failover_url) if (failover_url or "").strip() else None
    if failover_url == url:
        raise CbcOperatorRefused("failover_url", "failover_same")
    if not (token or "").strip():
        raise CbcOperatorRefused("token", "token_empty")
    if not (callback_secret or "").strip():
        raise CbcOperatorRefused("callback_secret", "secret_empty")
    vertices = DEFAULT_MAX_VERTICES if max_vertices is None else max_vertices
    if not MIN_VERTICES <= vertices <= MAX_VERTICES:
        raise CbcOperatorRefused("max_vertices", "max_vertices_range", min=MIN_VERTICES, max=MAX_VERTICES)
    overrides = parse_identifiers(identifiers)
    if (existing := session.scalar(select(CbcOperator).where(CbcOperator.code == code))) is not None:
        raise CbcOperatorRefused("code", "code_taken", conflict=True, given=code, name=existing.name)
    operator = CbcOperator(code=code, name=name, url=url, failover_url=failover_url, token=token,
                           callback_secret=callback_secret, max_vertices=vertices, identifiers=overrides,
                           exercise=exercise, created_by_id=actor.id if isinstance(actor, User) else None)
    session.add(operator)
    session.flush()
    record(session, actor, "cbc_operator.add", operator, via=via, code=code, name=name, url=url,
           failover_url=failover_url, max_vertices=vertices, identifiers=overrides, exercise=exercise,
           token_set=True, callback_secret_set=True)
    return operator


def deactivate_operator(session: Session, actor: Actor, via: str, operator: CbcOperator) -> None:
    """No new alert goes to it; what it was sent, and its callbacks, stay on record."""
    if not operator.active:
        raise CbcOperatorRefused("code", "operator_inactive", conflict=True, operator=operator.code)
    operator.active = False
    record(session, actor, "cbc_operator.deactivate", operator, via=via, code=operator.code)


def operators(session: Session, active_only: bool = False) -> list[CbcOperator]:
    query = select(CbcOperator).order_by(CbcOperator.code)
    return list(session.scalars(query.where(CbcOperator.active) if active_only else query))


def operator_by_code(session: Session, code: str) -> CbcOperator | None:
    return session.scalar(select(CbcOperator).where(CbcOperator.code == code))


def operator_flags(operator: CbcOperator) -> str:
    """" (exercise, inactive)" as it applies, for listings."""
    flags = [label for label, on in (("exercise", operator.exercise), ("inactive", not operator.active)) if on]
    return f" ({', '.join(flags)})" if flags else ""


def _url(field: str, url: str | None) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise CbcOperatorRefused(field, "url_malformed", max=MAX_URL)
    return url
