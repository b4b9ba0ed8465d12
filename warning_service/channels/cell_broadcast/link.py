"""The link test (docs/CHANNELS.md): a CAP <status>Test</status> to each URL of an operator's CBC, primary
and failover. A 2xx answer means the link is up; the CBC never broadcasts it. Run by `flask channels
check` (the channel's check_targets) and on a schedule (the reconciler queues it), and kept on each
CBC's row, so a CBC that does not answer shows on the console and in /metrics before anyone needs it."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from ...models import CbcOperator, utcnow
from ..base import ChannelAdapter, Outcome
from ..spec import Check
from .cap import post_cap
from .message import link_test_message

logger = logging.getLogger(__name__)
FRONTS = ("primary", "failover")
PARALLEL_LINK_TESTS = 8


@dataclass(frozen=True)
class LinkResult:
    front: str  # primary or failover
    url: str
    ok: bool
    detail: str  # what the CBC answered, or why it did not; never the token


def link_test(operator: CbcOperator, sender: str, timeout: float, now: datetime) -> list[LinkResult]:
    """Test each URL the operator has; each gets a Test message of its own (a fresh identifier)."""
    results = []
    for front, url in zip(FRONTS, (operator.url, operator.failover_url)):
        if url is None:
            continue
        answer = post_cap(url, link_test_message(operator.code, front, sender, now), operator.token, timeout)
        ok = answer.outcome == Outcome.ACCEPTED
        detail = f"answered {answer.code}" if ok else f"{answer.code} {answer.text}".strip()
        results.append(LinkResult(front, url, ok, detail))
    return results


def check_links(session: Session, settings: Mapping[str, Any], now: datetime | None = None
                ) -> list[tuple[CbcOperator, list[LinkResult]]]:
    """Link-test every active CBC, all at once, and keep each one's result on its row (the console's banner
    and /metrics read it there); commits."""
    now = now or utcnow()
    operators = list(session.scalars(select(CbcOperator).where(CbcOperator.active).order_by(CbcOperator.code)))
    if not operators:
        return []
    sender, timeout = str(settings["CONSOLE_CAP_SENDER"]), float(settings["CELL_BROADCAST_TIMEOUT_SECONDS"])
    with ThreadPoolExecutor(max_workers=min(PARALLEL_LINK_TESTS, len(operators))) as pool:
        results = list(pool.map(lambda operator: link_test(operator, sender, timeout, now), operators))
    for operator, tested in zip(operators, results):
        by_front = {result.front: result for result in tested}
        operator.link_checked_at = now
        operator.link_primary_ok = by_front["primary"].ok
        operator.link_failover_ok = by_front["failover"].ok if "failover" in by_front else None
        operator.link_detail = "; ".join(f"{result.front}: {result.detail}" for result in tested)[:1000]
        if operator.link_down:
            logger.warning("cell broadcast: CBC %s does not answer its link test: %s", operator.code,
                           operator.link_detail, extra={"operator": operator.code})
    session.commit()
    return list(zip(operators, results))


def check_targets(session: Session, settings: Mapping[str, Any], adapter: ChannelAdapter) -> list[Check]:
    """`flask channels check`: with the CAP gateway, every active CBC's URLs, each a line."""
    if adapter.name != "cap":
        return []
    tested = check_links(session, settings)
    if not tested:
        return [Check("cell broadcast centres", False, "none active: cell broadcasts would reach no one "
                                                       "(add one with `flask endpoints add-cbc`)")]
    return [Check(f"CBC {operator.code} {operator.name} {result.front} {result.url}", result.ok, result.detail)
            for operator, results in tested for result in results]


def not_answering() -> Select:
    """Active CBCs whose last link test found a URL not answering (the console's banner, /metrics)."""
    return select(CbcOperator).where(CbcOperator.active, or_(CbcOperator.link_primary_ok.is_(False),
                                                             CbcOperator.link_failover_ok.is_(False)))
