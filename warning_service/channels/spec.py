"""What a channel is: everything the rest of the service asks of one, declared once in its package.

Each channel package (channels/<name>/__init__.py) declares one `ChannelSpec` as CHANNEL, and
channels/catalog.py lists the packages; planning, sending, rendering, the console, the reports, the
admin pages and the CLI iterate over that list. Nothing here loads Flask or a gateway's library:
adapters are named by import path and loaded on first use (channels/gateways.py), and the console's
words are English marked with `N_` for its catalogs, translated where they are shown.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..models import Alert, County
from ..registration import RegistryError
from ..rendering.budgets import Budget
from .base import AlertContent, OutboundMessage, SendResult

# Targets that serve everyone in a place (a platform, a village card) get both languages, Tibetan first.
PLACE_LANGUAGES = ("bo", "zh")


def N_(text: str) -> str:
    """Mark a console text for extraction (`pybabel extract -k N_`); the console translates it where shown."""
    return text


@dataclass(frozen=True)
class Address:
    """Where a target is reached and in which languages, with what its gateway needs besides."""

    address: str                    # an E.164 phone, a platform's URL, a card's address
    languages: tuple[str, ...]
    secret: str | None = None       # the target's own signing key, never logged
    county_code: str | None = None  # the county the target serves (a platform's own recordings)


@dataclass(frozen=True)
class Check:
    """One line of `flask channels check`: what was checked, whether it works, and why (not)."""

    what: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'OK' if self.ok else 'FAILED':<6}  {self.what}: {self.detail}"


@dataclass(frozen=True)
class Failover:
    """Where this channel's deliveries go when they failed for good, or are still unsent `lag_setting`
    seconds after they were planned: channel `to`, at the target `via` names on this channel's target."""

    to: str
    via: InstrumentedAttribute
    lag_setting: str


@dataclass(frozen=True)
class FormField:
    """One input of a registrable target besides its county, name and exercise mark: a field of the
    admin form and an option of `flask endpoints add-<kind>`."""

    name: str                       # the form field, the key in the values, the CLI option (--<name>)
    label: str                      # N_: the admin form's label
    kind: str = "text"              # "text", "secret" (typed hidden, never shown back) or "flag"
    attribute: str | None = None    # the model's attribute an edit form starts from (None: starts empty)
    required: bool = False
    max_length: int | None = None
    help: str = ""                  # the CLI option's help
    option: str | None = None       # the CLI option's name when not --<name>
    metavar: str | None = None
    prompt: str | None = None       # the CLI asks for it (hidden when a secret) when not given
    edit_only: bool = False         # only the admin's edit form has it (not the add form, not the CLI)


@dataclass(frozen=True)
class Checked:
    """A target kind's values, checked: what to store (`hidden`: stored, never audited), what the
    ledger records besides the county, name and exercise mark, its default name, and a generated
    secret to show once (or None)."""

    attributes: dict[str, object]
    audit: dict[str, object] = field(default_factory=dict)
    hidden: dict[str, object] = field(default_factory=dict)
    default_name: str = ""
    shown_once: str | None = None


@dataclass(frozen=True)
class ListColumn:
    label: str                      # N_: the admin list's heading
    attribute: str
    style: str = "text"             # "text", "code", "flag" (✓ or —) or "link" (to the edit page)


@dataclass(frozen=True)
class TargetKind:
    """Targets an admin registers one at a time (a county's platform, a BeiDou card); the admin pages,
    `flask endpoints` and directory.py's add, update and deactivate are built from this. Every kind has
    a county, a name and an exercise mark; `fields` are its own."""

    key: str                        # audit actions <key>.add, .update, .deactivate; refusal <key>_inactive
    path: str                       # its admin URLs (/admin/<path>), form prefix and CLI name (add-<path>)
    noun: str                       # the CLI's and the ledger's name of one, "broadcast endpoint"
    nouns: str                      # and of several
    model: type[Any]
    fields: tuple[FormField, ...]
    columns: tuple[ListColumn, ...]
    # (session, county, values, the row edited or None) -> Checked; raises RegistryError
    check: Callable[[Session, County, Mapping[str, Any], Any], Checked]
    describe: Callable[[Any], tuple[str, ...]]  # one row's fields for the CLI, secrets never among them
    refused: type[RegistryError]    # its refusals (their `texts`, N_-marked: the CLI's and, translated, the
    #                                 console's), <key>_inactive among them
    heading: str                    # N_: the admin page's heading over the list
    add_label: str                  # N_: "Add a ..."
    title: str                      # N_: "... %(name)s", the edit page's title
    added: str                      # N_: "... %(name)s added."
    saved: str                      # N_: "... %(name)s saved."
    secret_notice: str = ""         # N_: "... of %(name)s, shown only now ...", before a generated secret


@dataclass(frozen=True)
class ChannelSpec:
    """One channel, as the rest of the service knows it."""

    name: str                       # deliveries.channel, metrics labels, the console's data-channel
    label: str                      # N_: its name in the console
    reach_label: str                # N_: what its targets are called in the reach table
    reach_count: str                # N_: "%(count)d ..." in the sentence that sums an alert's reach
    priority: int                   # the plan writes channels in this order, lowest first
    gateway_setting: str            # the setting that names its gateway
    adapters: Mapping[str, str]     # gateway name -> "module:Class" (null and log carry every channel)
    settings: Mapping[str, Any]  # its settings and their defaults, read from the environment like any
    target: type[Any]               # the model of its targets: deliveries.target_id is one of its ids
    # (session, alert, county codes, exercise?) -> SELECT target_id, county_code
    select_targets: Callable[[Session, Alert, Sequence[str], bool], Select]
    addresses: Callable[[Session, Sequence[int]], dict[int, Address]]
    budget: Callable[[Mapping[str, Any]], Budget]
    template: str                   # templates_bo_zh/messages/**/<template>.<language>.j2
    phone: InstrumentedAttribute | None = None     # its targets' phone numbers: the log's masked column,
    #                                                the report's gaps, an admin's unmask
    township: InstrumentedAttribute | None = None  # its targets' township codes (the township report)
    receipts_setting: str | None = None  # sent is not settled until this many seconds have passed (receipts)
    failover: Failover | None = None
    registrable: tuple[TargetKind, ...] = ()
    # (session, settings, its adapter) -> more checks for `flask channels check` (its targets, say)
    check_targets: Callable[[Session, Mapping[str, Any], Any], list[Check]] | None = None
    # False: each target serves the whole area at once (cell broadcast: one per operator), so the reach,
    # progress and report tables by county leave the channel out and it is shown per target instead
    per_county: bool = True
    # True: the plan job that writes a chunk of this channel's deliveries sends it itself instead of queueing
    # batches for it, saving a trip through the queue (cell broadcast: a few CBCs, and seconds matter). Only
    # for channels of a handful of targets: the plan job holds its worker while it sends.
    sent_by_plan: bool = False
    # True: its gateway allows one send per interval (a BeiDou card), so a batch of its rows queued after the
    # plan (sends the pace deferred, which the reconciler brings back once due; failovers) goes to the front of
    # its alert's queue, not behind the batches a large fan-out queued meanwhile: the card, not the queue, sets
    # its pace. Still its alert's queue, so a more urgent alert's jobs go first and an exercise's stay on low.
    # Not for a channel of thousands of sends a second (SMS): its deferrals wait their turn at the back.
    paced: bool = False
    # A channel whose targets each get a message of their own (cell broadcast: a CAP document per operator,
    # naming what that operator got before) builds them itself instead of `addresses` and the shared texts:
    # (session, alert, its content, claimed rows (id, target_id, attempt), settings) ->
    # ([(row, message)], the results of the rows that cannot go)
    messages: Callable[[Session, Alert, AlertContent, Sequence[Any], Mapping[str, Any]],
                       tuple[list[tuple[Any, OutboundMessage]], list[SendResult]]] | None = None
