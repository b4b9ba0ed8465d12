"""Codes as a person reads them, in the console's language: the one map from each enum value (and each
size note and rendering warning) to its translated label.

Machine forms (CSV columns, the API's JSON, CAP) keep the codes; every page, and the JSON the pages
poll to redraw themselves, shows these labels and keeps the code in a data- attribute.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel.speaklater import LazyString

from ..channels.catalog import UnknownChannel, channel
from ..models import AgencyKind, AlertState, CapStatus, CbcState, DeliveryStatus, Level, MsgType, Role
from ..rendering.budgets import CBS_MAX_PAGES, Measure

LABELS: Mapping[type[enum.Enum], Mapping[enum.Enum, LazyString]] = {
    AlertState: {
        AlertState.RECEIVED: _l("Just received"), AlertState.PENDING_REVIEW: _l("Waiting for review"),
        AlertState.PUBLISHING: _l("Publishing"), AlertState.PUBLISHED: _l("Issued"),
        AlertState.CANCELLED: _l("Cancelled"), AlertState.SUPERSEDED: _l("Superseded by a correction"),
        AlertState.EXPIRED: _l("Expired"), AlertState.REJECTED: _l("Rejected"),
    },
    Level: {Level.RED: _l("Red"), Level.ORANGE: _l("Orange"), Level.YELLOW: _l("Yellow"), Level.BLUE: _l("Blue")},
    MsgType: {MsgType.ALERT: _l("New warning"), MsgType.UPDATE: _l("Correction"), MsgType.CANCEL: _l("Cancellation"),
              MsgType.ACK: _l("Acknowledgement"), MsgType.ERROR: _l("Error report")},
    DeliveryStatus: {
        DeliveryStatus.PENDING: _l("Pending"), DeliveryStatus.SENDING: _l("Sending"), DeliveryStatus.SENT: _l("Sent"),
        DeliveryStatus.DELIVERED: _l("Delivered"), DeliveryStatus.UNDELIVERED: _l("Undelivered"),
        DeliveryStatus.FAILED: _l("Failed"), DeliveryStatus.CANCELLED: _l("Cancelled"),
    },
    CbcState: {CbcState.BROADCASTING: _l("On the air"), CbcState.COMPLETED: _l("Completed"),
               CbcState.FAILED: _l("Failed in every cell"), CbcState.CANCELLED: _l("Stopped by the cancellation")},
    Role: {Role.ADMIN: _l("Administrator"), Role.DUTY_OFFICER: _l("Duty officer"), Role.AUDITOR: _l("Auditor"),
           Role.TRANSLATOR: _l("Translator")},
    CapStatus: {CapStatus.ACTUAL: _l("Actual"), CapStatus.EXERCISE: _l("Exercise"), CapStatus.SYSTEM: _l("System"),
                CapStatus.TEST: _l("Test"), CapStatus.DRAFT: _l("Draft")},
    AgencyKind: {
        AgencyKind.SEISMIC: _l("Earthquake"), AgencyKind.GEOLOGY: _l("Geology"), AgencyKind.WEATHER: _l("Weather"),
        AgencyKind.FORESTRY: _l("Forestry and grassland"), AgencyKind.HYDROLOGY: _l("Hydrology"),
        AgencyKind.TOURISM: _l("Tourism"), AgencyKind.OTHER: _l("Other"),
    },
}
# The texts rendered for CAP fields rather than for a channel (rendering/render.py CAP_TEXTS; the preview shows them too)
CAP_FIELDS: Mapping[str, LazyString] = {"headline": _l("CAP headline"), "description": _l("CAP description"),
                                        "instruction": _l("CAP instruction")}
# rendering/render.py's warnings on a fitted text
WARNINGS: Mapping[str, LazyString] = {
    "unreviewed Tibetan": _l("Tibetan not yet reviewed"), "unreviewed Chinese": _l("Chinese not yet reviewed"),
    "shortened": _l("shortened"), "cut": _l("cut to fit"), "over budget": _l("too long for the channel"),
}

# budgets.Measure.encoding of a text counted in bits (a BeiDou message's coding)
BIT_CODINGS: Mapping[str, LazyString] = {"chinese": _l("Chinese-character mode"), "mixed": _l("mixed mode"),
                                          "code": _l("code mode")}


def label_of(kind: type[enum.Enum], value: enum.Enum | str | None) -> str:
    """The label of a member (or of its code); "—" for none, and an unknown code as it is."""
    if value is None or value == "":
        return "—"
    try:
        return str(LABELS[kind][kind(value)])
    except ValueError:
        return str(value)


def measure_label(measure: Measure) -> str:
    """A text's size as its channel counts it (budgets.Measure), worded for the reader."""
    units = f"{measure.units:,}"
    if measure.encoding in ("GSM-7", "UCS-2"):
        return ngettext("%(num)d %(encoding)s segment (%(units)s units)",
                        "%(num)d %(encoding)s segments (%(units)s units)",
                        measure.parts, encoding=measure.encoding, units=units)
    if measure.encoding == "speech":
        seconds = f"{measure.units // 10:,}" if measure.units % 10 == 0 else f"{measure.units / 10:,.1f}"
        return _("%(seconds)s s read aloud", seconds=seconds)
    if measure.encoding == "characters":
        return _("%(units)s characters", units=units)
    if measure.encoding == "CBS":  # the pages of the most a CBS message holds (3GPP TS 23.041)
        return ngettext("%(num)d of %(max)d cell broadcast page (%(units)s units)",
                        "%(num)d of %(max)d cell broadcast pages (%(units)s units)", measure.parts,
                        max=CBS_MAX_PAGES, units=units)
    mode = str(BIT_CODINGS.get(measure.encoding, measure.encoding))
    if measure.parts > 1:
        return _("%(units)s bits (%(mode)s) in %(parts)d messages", units=units, mode=mode, parts=measure.parts)
    return _("%(units)s bits (%(mode)s)", units=units, mode=mode)


def warning_label(warning: str) -> str:
    return str(WARNINGS.get(warning, warning))


def channel_label(name: str | None) -> str:
    """A delivery channel (its spec's label) or a CAP field of the preview, by name; "—" for none, and an
    unknown name as it is."""
    if not name:
        return "—"
    if name in CAP_FIELDS:
        return str(CAP_FIELDS[name])
    try:
        return _(channel(name).label)
    except UnknownChannel:
        return name


def _filter(kind: type[enum.Enum]) -> Callable[[enum.Enum | str | None], str]:
    return lambda value: label_of(kind, value)


FILTERS: Mapping[str, type[enum.Enum]] = {
    "state_label": AlertState, "level_label": Level, "msg_type_label": MsgType,
    "delivery_label": DeliveryStatus, "role_label": Role, "cap_status_label": CapStatus, "agency_kind_label": AgencyKind,
}


def register_labels(app: Flask) -> None:
    """`{{ alert.state|state_label }}` and the like, `|measure_label`, `|warning_label` in every template."""
    for name, kind in FILTERS.items():
        app.add_template_filter(_filter(kind), name)
    app.add_template_filter(channel_label)
    app.add_template_filter(measure_label)
    app.add_template_filter(warning_label)
