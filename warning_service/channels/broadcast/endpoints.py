"""The county broadcast platforms as admins register them (`flask endpoints add-broadcast`, the admin's
endpoints page; directory.py does the adding and the audit), and `flask channels check`'s signed
heartbeat to each. A platform's signing secret is stored (the adapter signs with it) but never shown
back or audited; one left empty is generated and shown once.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import BroadcastEndpoint, County
from ...registration import RegistryError
from ..base import ChannelAdapter, GatewayUnavailable
from ..spec import N_, Check, Checked, FormField, ListColumn, TargetKind

MAX_URL = 500
# Endpoints checked at once: 31 counties, each given BROADCAST_TIMEOUT_SECONDS.
PARALLEL_CHECKS = 8

REFUSALS: Mapping[str, str] = {
    "url_malformed": N_("give the platform's http:// or https:// URL (at most %(max)s characters)"),
    "secret_empty": N_("the signing secret cannot be empty"),
    "url_taken": N_("active broadcast endpoint %(existing)s already has the URL %(url)s"),
    "broadcast_endpoint_inactive": N_("broadcast endpoint %(id)s (%(name)s) is already inactive"),
}


class EndpointRefused(RegistryError):
    """What a broadcast endpoint's registration refuses (see RegistryError)."""

    texts = REFUSALS


def checked_url(url: str | None) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise EndpointRefused("url", "url_malformed", max=MAX_URL)
    return url


def _checked_secret(secret: str) -> str:
    if not secret.strip():
        raise EndpointRefused("secret", "secret_empty")
    return secret


def _unique_url(session: Session, url: str, endpoint: BroadcastEndpoint | None) -> None:
    same_url = select(BroadcastEndpoint.id).where(BroadcastEndpoint.url == url, BroadcastEndpoint.active)
    if endpoint is not None:
        same_url = same_url.where(BroadcastEndpoint.id != endpoint.id)
    if (existing := session.scalar(same_url)) is not None:
        raise EndpointRefused("url", "url_taken", conflict=True, existing=existing, url=url)


def check(session: Session, county: County, values: Mapping[str, Any], endpoint: BroadcastEndpoint | None) -> Checked:
    """A new platform without a secret gets one generated; an edited one keeps its own unless given one
    or asked to generate one (`generate_secret`)."""
    url = checked_url(values.get("url"))
    _unique_url(session, url, endpoint)
    if endpoint is None:
        generated = secrets.token_urlsafe(32) if values.get("secret") is None else None
        secret = generated or _checked_secret(values.get("secret") or "")
        return Checked({"url": url}, audit={"url": url, "secret_generated": generated is not None},
                       hidden={"secret": secret}, default_name=f"{county.name_zh}应急广播平台", shown_once=generated)
    generated = secrets.token_urlsafe(32) if values.get("generate_secret") else None
    replaced = generated or (_checked_secret(values["secret"]) if values.get("secret") else None)
    if replaced is None:
        return Checked({"url": url})
    return Checked({"url": url}, audit={"secret": "generated" if generated else "replaced"},
                   hidden={"secret": replaced}, shown_once=generated)


ENDPOINTS = TargetKind(
    key="broadcast_endpoint",
    path="broadcast",
    noun="broadcast endpoint",
    nouns="broadcast endpoints",
    model=BroadcastEndpoint,
    fields=(
        FormField("url", N_("URL of the platform"), attribute="url", required=True, max_length=MAX_URL,
                  help="The platform's URL for EBM packages (http or https)."),
        FormField("secret", N_("Signing secret (empty: generated and shown once; when editing: kept)"), kind="secret",
                  max_length=500, prompt="Signing secret",
                  help="The key the platform checks our signatures with (asked for, hidden, when not given)."),
        FormField("generate_secret", N_("Generate a new signing secret"), kind="flag", edit_only=True),
    ),
    columns=(ListColumn(N_("Name"), "name", "link"), ListColumn(N_("Address (URL)"), "url", "code")),
    check=check,
    describe=lambda endpoint: (endpoint.county_code, endpoint.name, endpoint.url),
    refused=EndpointRefused,
    heading=N_("County broadcast platforms"),
    add_label=N_("Add a broadcast endpoint"),
    title=N_("Broadcast endpoint %(name)s"),
    added=N_("Broadcast endpoint %(name)s added."),
    saved=N_("Broadcast endpoint %(name)s saved."),
    secret_notice=N_("Signing secret of %(name)s, shown only now; give it to the platform:"),
)


def check_endpoints(session: Session, settings: Mapping[str, Any], adapter: ChannelAdapter) -> list[Check]:
    """With the http gateway, a signed heartbeat to every active platform, each with its own secret."""
    if adapter.name != "http":
        return []
    endpoints = session.scalars(select(BroadcastEndpoint).where(BroadcastEndpoint.active)
                                .order_by(BroadcastEndpoint.county_code, BroadcastEndpoint.id)).all()
    if not endpoints:
        return [Check("broadcast endpoints", False, "none active: broadcasts would reach no one "
                                                    "(add one with `flask endpoints add-broadcast`)")]
    with ThreadPoolExecutor(max_workers=PARALLEL_CHECKS) as pool:
        return list(pool.map(lambda endpoint: _check_endpoint(endpoint, settings), endpoints))


def _check_endpoint(endpoint: BroadcastEndpoint, settings: Mapping[str, Any]) -> Check:
    from .http import check_endpoint  # requests and the EBM format only when checked

    what = f"broadcast endpoint {endpoint.id} {endpoint.county_code} {endpoint.name} {endpoint.url}"
    try:
        return Check(what, True, check_endpoint(endpoint.url, endpoint.secret, settings))
    except GatewayUnavailable as exc:
        return Check(what, False, str(exc))
