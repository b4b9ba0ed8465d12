"""One operator's Cell Broadcast Centre (CBC) on loopback, speaking docs/CHANNELS.md's wire contract.

Each operator (China Mobile `cmcc`, China Unicom `cucc`, China Telecom `ctcc`) is one `CbcPeer`.
It listens on two fronts, `primary` and `failover` (two ports), as an operator's CBC is reached
through two proxies: both lead to the same CBC, so a message taken on one is known on the other.
A POST of a CAP 1.2 <alert> to `url(front)` is checked here independently of the service:
  401  no or a wrong `Authorization: Bearer <token>`
  415  not `Content-Type: application/cap+xml` (charset, when given, utf-8)
  413  a body over MAX_BODY
  400  not well-formed, a DTD or an entity declaration (refused unread), not CAP 1.2 by its schema
  409  an identifier already taken for a different message (an identical repeat is answered again)
  422  against the contract: scope, status for this CBC (exercise CBCs take no real warnings, real
       CBCs no exercises), references to messages it never got, the two <info> blocks zh-CN and
       bo-CN, a description over 615 UTF-16 code units or not NFC, CBS_MESSAGE_IDENTIFIER missing
       or not the one TS 23.041 gives that status and language, CBS_REPETITION_SECONDS not a whole
       number of seconds, the <area> (one, the same in both languages, a polygon or circle, at most
       `max_vertices` polygon points)
  202  accepted: {"cbc_message_id": "..."}; refusals are {"error": slug, "reason": text}.
After an accepted Alert or Update it POSTs signed status callbacks to `callback_url`: broadcasting,
then completed (or failed) with cells and failed_cells; a Cancel stops what it references, each
reported cancelled. A Test message is a link test: answered, kept in `link_tests`, never broadcast.

`fail(mode)` for both fronts, `fail(mode, front)` for one; "none" restores it:
  slow     answer after `slow_seconds`           timeout  hold `hold_seconds` without taking the
  5xx      HTTP 500, nothing taken                        message, then hang up
  429      HTTP 429, Retry-After: 1              drop     read the request, hang up unanswered
  refuse   nothing listens: connection refused   lost     take the message, then hold and hang up
                                                          (the answer is lost on the way back)
"""
from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import defusedxml.ElementTree as defused_et
from defusedxml import DefusedXmlException
from lxml import etree
from shapely.geometry import Polygon

from peers.received import FAILURE_MODES, Received
from warning_service.rendering.budgets import utf16_units

OPERATORS = {"cmcc": "中国移动", "cucc": "中国联通", "ctcc": "中国电信"}
FRONTS = ("primary", "failover")
MODES = (*FAILURE_MODES, "refuse", "lost")
PATH = "/cap"
MAX_BODY = 1_000_000
MAX_DESCRIPTION_UNITS = 615  # 15 CBS pages x 82 octets / 2 octets per UCS-2 unit (3GPP TS 23.041)
LANGUAGES = ("zh-CN", "bo-CN")  # the first language, then the additional one
CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "warning_service" / "data" / "cap" / "CAP-v1.2.xsd"
# What this CBC knows of TS 23.041 §9.4.1.2.2: ETWS identifiers serve every language; a CMAS
# identifier has an "additional languages" twin, 13 up for 4370-4382 and 1 up from 4396 on.
ETWS = range(4352, 4357)
ADDITIONAL_OF = {**{n: n + 13 for n in range(4370, 4383)}, 4396: 4397, 4398: 4399}
EXERCISE_IDS = {4381, 4394}
TEST_IDS = {4355, 4380, 4393, 4398, 4399}
STATE_RANK = {"broadcasting": 1, "completed": 2, "failed": 2, "cancelled": 3}


class Refused(Exception):
    """The CBC will not take the message: the HTTP status, a short slug and the reason."""

    def __init__(self, status: int, error: str, reason: str):
        super().__init__(reason)
        self.status, self.error, self.reason = status, error, reason


@dataclass(frozen=True)
class Callback:
    """A status callback the CBC made, and what the service answered (None: no answer)."""

    url: str
    body: dict
    signature: str
    answered: int | None


@dataclass
class _Taken:
    """A message the CBC has taken, as references, repeats and callbacks need it."""

    cbc_message_id: str
    digest: str
    sent: datetime
    cells: int = 0  # as last reported
    failed_cells: int = 0
    state: str = "accepted"


class CbcPeer:
    """Use as a context manager: `with CbcPeer("cmcc", token, secret, callback_url=...) as cbc: cbc.url()`."""

    def __init__(self, operator: str, token: str, callback_secret: str, *, callback_url: str | None = None,
                 max_vertices: int = 100, exercise: bool = False, cells_per_area: int = 40, failed_cells: int = 0,
                 callback_delay: float = 0.2, slow_seconds: float = 0.2, hold_seconds: float = 10.0,
                 ports: Mapping[str, int] | None = None):
        self.operator, self.token, self.callback_secret = operator, token, callback_secret
        self.callback_url, self.max_vertices, self.exercise = callback_url, max_vertices, exercise
        self.cells_per_area, self.failed_cells, self.callback_delay = cells_per_area, failed_cells, callback_delay
        self.slow_seconds, self.hold_seconds = slow_seconds, hold_seconds
        self.link_tests: list[tuple[str, str]] = []  # (front, identifier) of each Test message taken
        self._received: list[Received] = []
        self._refusals: list[tuple[str, int, str, str]] = []  # (front, status, error, reason)
        self._callbacks: list[Callback] = []
        self._taken: dict[tuple[str, str], _Taken] = {}  # (sender, identifier)
        self._modes: dict[str, str] = dict.fromkeys(FRONTS, "none")
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._ids = itertools.count(1)
        self._schema = etree.XMLSchema(etree.parse(str(SCHEMA_FILE), etree.XMLParser(no_network=True)))
        self._fronts = {name: _Front(self, name, (ports or {}).get(name, 0)) for name in FRONTS}
        self._due: list[tuple] = []  # a heap of (due, sequence, key, state, cells): the callbacks to make
        self._sequence = itertools.count()
        self._wakeup = threading.Condition()
        self._stopped = False
        self._caller = threading.Thread(target=self._call_back_forever, name=f"cbc-{operator}-callbacks", daemon=True)

    # --- control -----------------------------------------------------------------

    def __enter__(self) -> CbcPeer:
        for front in self._fronts.values():
            front.start()
        self._caller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._release.set()
        with self._wakeup:
            self._stopped = True
            self._wakeup.notify()
        for front in self._fronts.values():
            front.stop()
        self._caller.join()

    def url(self, front: str = "primary") -> str:
        return f"http://127.0.0.1:{self._fronts[front].port}{PATH}"

    def fail(self, mode: str, front: str | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown failure mode {mode!r}; choose one of {', '.join(MODES)}")
        for name in (front,) if front else FRONTS:
            self._modes[name] = mode
            if mode == "refuse":
                self._fronts[name].stop()
            else:
                self._fronts[name].start()

    def mode(self, front: str) -> str:
        return self._modes[front]

    def hold(self) -> None:
        """Keep a request waiting, past the sender's timeout, until `hold_seconds` pass or the peer stops."""
        self._release.wait(self.hold_seconds)

    def received(self) -> list[Received]:
        """The Actual and Exercise messages taken, in order (a repeat of one is not taken twice)."""
        with self._lock:
            return list(self._received)

    def refusals(self) -> list[tuple[str, int, str, str]]:
        with self._lock:
            return list(self._refusals)

    def callbacks(self) -> list[Callback]:
        with self._lock:
            return list(self._callbacks)

    def wait_for_callbacks(self, count: int, timeout: float = 10.0) -> list[Callback]:
        deadline = time.monotonic() + timeout
        while len(self.callbacks()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.callbacks()

    # --- taking a message ----------------------------------------------------------

    def answer(self, front: str, headers: Message, body: bytes) -> tuple[int, dict]:
        """The status and JSON answer to one POST; a refusal is recorded with its reason."""
        try:
            return 202, {"cbc_message_id": self._take(front, headers, body)}
        except Refused as refusal:
            with self._lock:
                self._refusals.append((front, refusal.status, refusal.error, refusal.reason))
            return refusal.status, {"error": refusal.error, "reason": refusal.reason}

    def _take(self, front: str, headers: Message, body: bytes) -> str:
        expected = f"Bearer {self.token}".encode()
        if not hmac.compare_digest(headers.get("Authorization", "").encode(), expected):
            raise Refused(401, "unauthorised", "no or a wrong bearer token")
        if headers.get_content_type() != "application/cap+xml" or \
                (headers.get_content_charset() or "utf-8") != "utf-8":
            raise Refused(415, "content_type", "send Content-Type: application/cap+xml; charset=utf-8")
        root = self._cap(body)
        message = _read(root)
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:
            taken = self._taken.get(message.key)
            if taken is not None:
                if taken.digest != digest:
                    raise Refused(409, "identifier_taken", f"identifier {message.identifier} names another message")
                return taken.cbc_message_id  # a repeat (an answer lost on the way): the same answer
            self._check(message)
            cbc_message_id = f"{self.operator}-{next(self._ids):06d}"
            self._taken[message.key] = _Taken(cbc_message_id, digest, message.sent)
            if message.status == "Test":
                self.link_tests.append((front, message.identifier))
                return cbc_message_id
            self._received.append(message.received(self.operator, front, cbc_message_id))
        self._broadcast(message)
        return cbc_message_id

    def _cap(self, body: bytes) -> etree._Element:
        """Parsed safely (expat refuses DTDs and entities before lxml reads it) and schema-valid."""
        try:
            defused_et.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
            root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
        except DefusedXmlException:
            raise Refused(400, "malformed", "DTDs and entity declarations are not accepted") from None
        except (defused_et.ParseError, etree.XMLSyntaxError, ValueError) as error:
            raise Refused(400, "malformed", f"not well-formed XML: {error}") from None
        if root.tag != f"{{{CAP12}}}alert":
            raise Refused(400, "schema", "not a CAP 1.2 <alert>")
        with self._lock:  # lxml keeps the error log on the shared schema
            if not self._schema.validate(root):
                raise Refused(400, "schema", f"not valid CAP 1.2: {self._schema.error_log.last_error.message}")
        return root

    def _check(self, message: _Message) -> None:
        """The contract's rules for one message (called with the lock held: references read `_taken`)."""
        if message.scope != "Public":
            raise Refused(422, "scope", "a cell broadcast is <scope>Public</scope>")
        if message.status not in ("Actual", "Exercise", "Test"):
            raise Refused(422, "status", f"a {message.status} message is never broadcast")
        if message.status == ("Actual" if self.exercise else "Exercise"):
            kind = "an exercise CBC takes no real warnings" if self.exercise else "a real CBC takes no exercises"
            raise Refused(422, "status", kind)
        if message.msg_type not in ("Alert", "Update", "Cancel"):
            raise Refused(422, "msg_type", f"msgType {message.msg_type} is not broadcast")
        if message.msg_type != "Alert" and not message.references:
            raise Refused(422, "references", f"an {message.msg_type} names the messages it acts on")
        for sender, identifier, sent in message.references:
            taken = self._taken.get((sender, identifier))
            if taken is None or taken.sent != sent:
                raise Refused(422, "references", f"this CBC never got {sender},{identifier}")
        if message.status == "Test" and not message.infos:
            return  # a link test needs no text
        languages = [info.language for info in message.infos]
        if sorted(languages) != sorted(LANGUAGES):
            raise Refused(422, "languages", f"one <info> each for {' and '.join(LANGUAGES)}, got {languages}")
        for info in message.infos:
            info.check(message.status)
        first, additional = sorted(message.infos, key=lambda info: LANGUAGES.index(info.language))
        expected = first.message_identifier if first.message_identifier in ETWS \
            else ADDITIONAL_OF.get(first.message_identifier)
        if first.message_identifier in set(ADDITIONAL_OF.values()) or expected is None:
            raise Refused(422, "message_identifier", f"{first.message_identifier} is not a first-language identifier")
        if additional.message_identifier != expected:
            raise Refused(422, "message_identifier",
                          f"bo-CN carries {additional.message_identifier}; {first.message_identifier} in "
                          f"additional languages is {expected}")
        if first.area != additional.area:
            raise Refused(422, "area", "both languages must carry the same <area>")
        vertices = sum(len(polygon) for polygon in first.area.polygons)
        if vertices > self.max_vertices:
            raise Refused(422, "vertices", f"{vertices} polygon points; this CBC takes at most {self.max_vertices}")

    # --- broadcasting and callbacks --------------------------------------------------

    def _broadcast(self, message: _Message) -> None:
        """Play the cells: broadcasting, then completed (or failed); a Cancel stops what it names."""
        if message.msg_type == "Cancel":
            for sender, identifier, _ in message.references:
                self._report((sender, identifier), "cancelled", 1, replace=True)
            return
        area = message.infos[0].area
        cells = self.cells_per_area * (len(set(area.geocodes)) or len(area.polygons) + len(area.circles))
        failed = min(self.failed_cells, cells)
        self._report(message.key, "broadcasting", 1, (cells // 2, 0))
        self._report(message.key, "failed" if failed == cells else "completed", 2, (cells - failed, failed))

    def _report(self, key: tuple[str, str], state: str, steps: int, cells: tuple[int, int] | None = None,
                replace: bool = False) -> None:
        """Queue one callback `steps` delays from now, with (cells, failed_cells) when they change;
        `replace` drops what was still queued for the message."""
        if self.callback_url is None:
            return
        with self._wakeup:
            if replace:
                self._due = [item for item in self._due if item[2] != key]
                heapq.heapify(self._due)
            heapq.heappush(self._due, (time.monotonic() + steps * self.callback_delay, next(self._sequence), key,
                                       state, cells))
            self._wakeup.notify()

    def _call_back_forever(self) -> None:
        while True:
            with self._wakeup:
                while not self._stopped and (not self._due or self._due[0][0] > time.monotonic()):
                    self._wakeup.wait(self._due[0][0] - time.monotonic() if self._due else None)
                if self._stopped:
                    return
                _, _, key, state, cells = heapq.heappop(self._due)
            body = self._advance(key, state, cells)
            if body is not None:
                self._post_signed(body)

    def _advance(self, key: tuple[str, str], state: str, cells: tuple[int, int] | None) -> dict | None:
        """The callback body for a state change, or None when it would move the message backwards.
        A cancelled message keeps the cells it last reported."""
        with self._lock:
            taken = self._taken[key]
            if STATE_RANK[state] <= STATE_RANK.get(taken.state, 0):
                return None
            taken.state = state
            if cells is not None:
                taken.cells, taken.failed_cells = cells
            return {"cbc_message_id": taken.cbc_message_id, "identifier": key[1], "state": state,
                    "cells": taken.cells, "failed_cells": taken.failed_cells}

    def _post_signed(self, body: dict) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode()
        signature = hmac.new(self.callback_secret.encode(), raw, hashlib.sha256).hexdigest()
        request = urllib.request.Request(self.callback_url, data=raw, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "X-CBC-Signature": signature,
        })
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                answered = response.status
        except urllib.error.HTTPError as error:
            answered = error.code
        except OSError:
            answered = None
        with self._lock:
            self._callbacks.append(Callback(self.callback_url, body, signature, answered))


# --- reading the CAP ------------------------------------------------------------------

@dataclass(frozen=True)
class _Area:
    polygons: tuple[tuple[tuple[float, float], ...], ...]  # (lat, lon) points as CAP writes them
    circles: tuple[str, ...]
    geocodes: tuple[tuple[str, str], ...]  # (valueName, value)


@dataclass(frozen=True)
class _Info:
    language: str
    headline: str | None
    description: str | None
    expires: str | None
    parameters: dict[str, list[str]]
    area: _Area
    area_desc: str

    @property
    def message_identifier(self) -> int:
        return int(self.parameters["CBS_MESSAGE_IDENTIFIER"][0])

    def check(self, status: str) -> None:
        for name in ("headline", "description", "expires"):
            if not getattr(self, name):
                raise Refused(422, name, f"{self.language}: <{name}> is required")
        if unicodedata.normalize("NFC", self.description) != self.description:
            raise Refused(422, "nfc", f"{self.language}: the description is not in NFC")
        units = utf16_units(self.description)
        if units > MAX_DESCRIPTION_UNITS:
            raise Refused(422, "description_length",
                          f"{self.language}: {units} UTF-16 code units; 15 CBS pages hold {MAX_DESCRIPTION_UNITS}")
        values = self.parameters.get("CBS_MESSAGE_IDENTIFIER", [])
        if len(values) != 1 or not values[0].isdigit():
            raise Refused(422, "message_identifier", f"{self.language}: one CBS_MESSAGE_IDENTIFIER, a number")
        number = self.message_identifier
        if status in ("Exercise", "Test"):
            fits = number in (EXERCISE_IDS if status == "Exercise" else TEST_IDS)
        else:
            fits = number not in EXERCISE_IDS | TEST_IDS
        if not fits:
            raise Refused(422, "message_identifier", f"{self.language}: {number} is not for a {status} message")
        for value in self.parameters.get("CBS_REPETITION_SECONDS", []):
            if not value.isdigit() or int(value) == 0:
                raise Refused(422, "repetition", f"{self.language}: CBS_REPETITION_SECONDS is whole seconds, over 0")


@dataclass(frozen=True)
class _Message:
    sender: str
    identifier: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: tuple[tuple[str, str, datetime], ...]
    infos: tuple[_Info, ...]

    @property
    def key(self) -> tuple[str, str]:
        return self.sender, self.identifier

    def received(self, operator: str, front: str, cbc_message_id: str) -> Received:
        by_language = {info.language: info for info in self.infos}
        area = self.infos[0].area
        return Received(address=operator, texts=tuple(by_language[language].description for language in LANGUAGES[::-1]),
                        extra={
            "cbc_message_id": cbc_message_id, "front": front, "identifier": self.identifier, "sender": self.sender,
            "sent": self.sent, "status": self.status, "msg_type": self.msg_type,
            "references": [(sender, identifier) for sender, identifier, _ in self.references],
            "headlines": {language: info.headline for language, info in by_language.items()},
            "area_desc": {language: info.area_desc for language, info in by_language.items()},
            "message_identifiers": {language: info.message_identifier for language, info in by_language.items()},
            "repetition_seconds": {language: info.parameters.get("CBS_REPETITION_SECONDS", [None])[0]
                                   for language, info in by_language.items()},
            "polygons": [list(polygon) for polygon in area.polygons], "circles": list(area.circles),
            "geocodes": list(area.geocodes),
        })


def _text(element: etree._Element, name: str) -> str | None:
    found = element.find(f"{{{CAP12}}}{name}")
    return None if found is None or found.text is None else found.text.strip()


def _read(root: etree._Element) -> _Message:
    """The fields the CBC acts on; the schema has already vouched for their shape."""
    references = []
    for reference in (_text(root, "references") or "").split():
        parts = reference.split(",")
        if len(parts) != 3:
            raise Refused(422, "references", f"{reference!r} is not sender,identifier,sent")
        try:
            references.append((parts[0], parts[1], datetime.fromisoformat(parts[2])))
        except ValueError:
            raise Refused(422, "references", f"{reference!r}: sent is not a CAP time") from None
    return _Message(
        sender=_text(root, "sender"), identifier=_text(root, "identifier"), sent=datetime.fromisoformat(_text(root, "sent")),
        status=_text(root, "status"), msg_type=_text(root, "msgType"), scope=_text(root, "scope"),
        references=tuple(references), infos=tuple(_info(info) for info in root.findall(f"{{{CAP12}}}info")),
    )


def _info(info: etree._Element) -> _Info:
    language = _text(info, "language") or "en-US"  # CAP's default
    parameters: dict[str, list[str]] = {}
    for parameter in info.findall(f"{{{CAP12}}}parameter"):
        parameters.setdefault(_text(parameter, "valueName"), []).append(_text(parameter, "value") or "")
    areas = info.findall(f"{{{CAP12}}}area")
    if len(areas) != 1:
        raise Refused(422, "area", f"{language}: one <area>, got {len(areas)}")
    area = areas[0]
    polygons = tuple(_polygon(language, element.text or "") for element in area.findall(f"{{{CAP12}}}polygon"))
    circles = tuple((element.text or "").strip() for element in area.findall(f"{{{CAP12}}}circle"))
    geocodes = tuple((_text(code, "valueName"), _text(code, "value")) for code in area.findall(f"{{{CAP12}}}geocode"))
    if not polygons and not circles:
        raise Refused(422, "area", f"{language}: the <area> needs a polygon or a circle for the cells")
    return _Info(language=language, headline=_text(info, "headline"), description=info.findtext(f"{{{CAP12}}}description"),
                 expires=_text(info, "expires"), parameters=parameters, area=_Area(polygons, circles, geocodes),
                 area_desc=_text(area, "areaDesc"))


def _polygon(language: str, text: str) -> tuple[tuple[float, float], ...]:
    """CAP's "lat,lon lat,lon ...", closed; refused when a point or the ring is wrong."""
    try:
        points = tuple((float(lat), float(lon)) for lat, lon in (pair.split(",") for pair in text.split()))
    except ValueError:
        raise Refused(422, "polygon", f"{language}: a polygon point is not lat,lon") from None
    if len(points) < 4 or points[0] != points[-1]:
        raise Refused(422, "polygon", f"{language}: a polygon is at least 4 points, the first repeated last")
    if any(not (-90 <= lat <= 90 and -180 <= lon <= 180) for lat, lon in points):
        raise Refused(422, "polygon", f"{language}: a polygon point is off the globe")
    if not Polygon([(lon, lat) for lat, lon in points]).is_valid:
        raise Refused(422, "polygon", f"{language}: a polygon crosses itself")
    return points


# --- HTTP ---------------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a held connection must not hold up stopping

    def handle_error(self, request, client_address) -> None:
        """A sender that gave up on a held answer hangs up; that is expected, anything else is not."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Front:
    """One way in to the CBC (a port of its own), which can be taken down and brought back."""

    def __init__(self, peer: CbcPeer, name: str, port: int):
        self.peer, self.name, self.port = peer, name, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._server is not None:
            return
        handler = type("Handler", (_Handler,), {"peer": self.peer, "front": self.name})
        self._server = _Server(("127.0.0.1", self.port), handler)
        self.port = self._server.server_address[1]  # the same port when brought back
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=f"cbc-{self.peer.operator}-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None


class _Handler(BaseHTTPRequestHandler):
    peer: CbcPeer
    front: str

    def do_POST(self) -> None:
        mode = self.peer.mode(self.front)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._reply(413, {"error": "too_large", "reason": f"at most {MAX_BODY} bytes"})
            return
        body = self.rfile.read(length)
        if mode in ("timeout", "drop", "refuse"):
            if mode == "timeout":
                self.peer.hold()
            self.close_connection = True
            return
        if mode == "5xx":
            self._reply(500, {"error": "internal", "reason": "the CBC failed before taking the message"})
            return
        if mode == "429":
            self._reply(429, {"error": "throttled", "reason": "too many requests"}, {"Retry-After": "1"})
            return
        if mode == "slow":
            time.sleep(self.peer.slow_seconds)
        if self.path != PATH:
            self._reply(404, {"error": "not_found", "reason": f"POST CAP to {PATH}"})
            return
        status, answer = self.peer.answer(self.front, self.headers, body)
        if mode == "lost":
            self.peer.hold()
            self.close_connection = True
            return
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        self._reply(status, answer, headers)

    def _reply(self, status: int, body: dict, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        """Quiet: the tests assert on what arrived, not on access logs."""
