"""CAP 1.2 and CAP 1.1 XML to `AlertMessage`, for untrusted input.

Two parsers on purpose. defusedxml (expat) reads the body first and refuses any
DTD, entity declaration or external reference before anything is expanded or
fetched. Only then does lxml, hardened as well, build the tree that is validated
against the OASIS schema shipped in `data/cap/` and read into the dataclasses.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

import defusedxml.ElementTree as defused_et
from defusedxml import DefusedXmlException
from lxml import etree

from ..cap.errors import FieldError
from ..cap.message import AlertMessage, AreaBlock, Circle, InfoBlock, Reference
from .errors import IntakeError, invalid, malformed
from .limits import DEFAULT_LIMITS, IntakeLimits

CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11 = "urn:oasis:names:tc:emergency:cap:1.1"
XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"

_FORMATS = {CAP12: "cap1.2", CAP11: "cap1.1"}
_SCHEMA_FILES = {CAP12: "CAP-v1.2.xsd", CAP11: "CAP-v1.1.xsd"}
_SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data" / "cap"
# Elements CAP lets repeat: their XML paths always carry an index (info[1]).
_REPEATED = frozenset({
    "code", "info", "category", "responseType", "eventCode", "parameter",
    "resource", "area", "polygon", "circle", "geocode",
})
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
MAX_REPORTED = 50  # problems listed in one 422
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
# lxml validators keep their error log on the shared schema object.
_VALIDATION_LOCK = threading.Lock()


def parse_cap_xml(data: bytes, limits: IntakeLimits = DEFAULT_LIMITS) -> AlertMessage:
    """Parse, validate and read one CAP alert; raise IntakeError 400, 413 (over `limits`) or 422."""
    _refuse_dtds_and_entities(data)
    root = _parse_hardened(data)
    namespace = _cap_namespace(root)
    _check_counts(root, namespace, limits)
    _validate(root, namespace)
    return _read_alert(root, namespace)


# --- parsing -----------------------------------------------------------------

def _refuse_dtds_and_entities(data: bytes) -> None:
    if not data.strip():
        raise malformed("The body is empty: expected a CAP <alert> document")
    try:
        _defused_parse(data)
    except DefusedXmlException as exc:
        raise malformed(
            f"DTDs and entity declarations are not accepted ({type(exc).__name__}); "
            "nothing was expanded or fetched"
        ) from exc
    except ParseError as exc:
        line, offset = exc.position  # expat counts columns from 0, lxml from 1
        reason = expat.ErrorString(exc.code)
        raise malformed(f"Not well-formed XML at line {line}, column {offset + 1}: {reason}") from exc
    except LookupError as exc:
        raise malformed(f"The XML declaration names an unknown encoding: {exc}") from exc


def _defused_parse(data: bytes) -> None:
    """Expat reads UTF-8/16 and single-byte encodings; a body declared in another
    (GBK, GB18030, Big5) is decoded here and given to it as text."""
    try:
        defused_et.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ValueError as exc:
        if isinstance(exc, DefusedXmlException) or "multi-byte encodings" not in str(exc):
            raise
        text = _decode_declared(data)
        defused_et.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)


def _decode_declared(data: bytes) -> str:
    match = _DECLARED_ENCODING.match(data)
    encoding = match.group(1).decode("ascii") if match else "utf-8"
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise malformed(f"The body is not valid {encoding}: {exc}") from exc


def _parse_hardened(data: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        reason = re.sub(r", line \d+, column \d+$", "", exc.msg)
        raise malformed(f"Not well-formed XML at line {line}, column {column}: {reason}") from exc


def _cap_namespace(root: etree._Element) -> str:
    qname = etree.QName(root)
    if qname.localname == "alert" and qname.namespace in _FORMATS:
        return qname.namespace
    found = f"<{qname.localname}> " + (
        f"in namespace {qname.namespace}" if qname.namespace else "with no namespace"
    )
    raise invalid(f"The root element is {found}; expected <alert> in namespace {CAP12} (or {CAP11})")


def _check_counts(root: etree._Element, namespace: str, limits: IntakeLimits) -> None:
    """One pass over the tree counting what the schema, the reader and the geometry would each work
    through: elements, and points as the whitespace-separated tokens of each <polygon>. Elements out
    of their CAP place are not counted here; the schema refuses them."""
    def children(parent: etree._Element, name: str) -> Iterator[etree._Element]:
        return parent.iterchildren(f"{{{namespace}}}{name}")

    areas = geocodes = circles = points = 0
    for info_index, info in enumerate(children(root, "info"), start=1):
        for area_index, area in enumerate(children(info, "area"), start=1):
            areas += 1
            geocodes += sum(1 for _ in children(area, "geocode"))
            circles += sum(1 for _ in children(area, "circle"))
            for polygon_index, polygon in enumerate(children(area, "polygon"), start=1):
                count = len((polygon.text or "").split())
                location = f"/alert/info[{info_index}]/area[{area_index}]/polygon[{polygon_index}]"
                limits.check("polygon_points", count, location, holder="this polygon")
                points += count
    limits.check("areas", areas, "/alert/info/area")
    limits.check("alert_points", points, "/alert/info/area/polygon")
    limits.check("geocodes", geocodes, "/alert/info/area/geocode")
    limits.check("circles", circles, "/alert/info/area/circle")
    references = sum(len((element.text or "").split()) for element in children(root, "references"))
    limits.check("references", references, "/alert/references")


# --- schema validation ---------------------------------------------------------

@cache
def _schema(namespace: str) -> etree.XMLSchema:
    """Compiled once per process, from the package's data directory, never the network."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    document = etree.parse(str(_SCHEMA_DIR / _SCHEMA_FILES[namespace]), parser)
    return etree.XMLSchema(document)


def _validate(root: etree._Element, namespace: str) -> None:
    if namespace == CAP11:
        _drop_trailing_signatures(root)
    schema = _schema(namespace)
    with _VALIDATION_LOCK:
        if schema.validate(root):
            return
        entries = list(schema.error_log)
    prefixes = {prefix: uri for element in root.iter(etree.Element)
                for prefix, uri in element.nsmap.items() if prefix}
    errors = [
        FieldError(_location_of(root, entry.path, prefixes), _shorten_values(_strip_namespaces(entry.message)))
        for entry in entries[:MAX_REPORTED]
    ]
    version = _FORMATS[namespace].removeprefix("cap")
    raise invalid_fields(f"The message does not follow the CAP {version} schema", errors, len(entries))


def invalid_fields(detail: str, errors: list[FieldError], total: int | None = None) -> IntakeError:
    """A 422 listing at most MAX_REPORTED problems: enough to fix, never a flood."""
    total = len(errors) if total is None else total
    if total > MAX_REPORTED:
        detail += f" (the first {MAX_REPORTED} of {total} problems are listed)"
    return invalid(detail, errors[:MAX_REPORTED])


def _location_of(root: etree._Element, libxml2_path: str | None, prefixes: dict[str, str]) -> str:
    """libxml2 names the failing element by a path such as /*/*[7]/*[8] or /cap:alert/cap:info[2]."""
    try:
        found = root.getroottree().xpath(libxml2_path, namespaces=prefixes) if libxml2_path else []
    except etree.XPathError:
        found = []
    return _location(found[0]) if found and isinstance(found[0], etree._Element) else "/alert"


def _drop_trailing_signatures(root: etree._Element) -> None:
    """CAP 1.1 allows an enveloped XML signature on <alert>, but its schema has no slot for it.

    CAP 1.2 added one (an xmldsig wildcard after the last <info>); a trailing
    ds:Signature in a 1.1 message is accepted the same way. It is never verified here.
    """
    for child in reversed(root):
        if etree.QName(child).namespace != XMLDSIG:
            return
        root.remove(child)


def _shorten_values(message: str) -> str:
    """libxml2 quotes the offending value whole; a sender can make it megabytes long."""
    return re.sub(r"(?<=\s)'([^']{40})[^']+'?", "'\\1…'", message)


def _strip_namespaces(message: str) -> str:
    """'{urn:oasis:...:cap:1.2}urgency' -> 'urgency'; value sets such as {'Past', 'Future'} stay."""
    return re.sub(r"\{[^{}\s']+\}(?=\w)", "", message)


def _location(element: etree._Element) -> str:
    """An XML path without namespaces: /alert/info[1]/area[2]/polygon[1]."""
    steps = []
    while element is not None:
        steps.append(_step(element))
        element = element.getparent()
    return "/" + "/".join(reversed(steps))


def _step(element: etree._Element) -> str:
    name = etree.QName(element).localname
    parent = element.getparent()
    if parent is None:
        return name
    same = [sibling for sibling in parent if etree.QName(sibling).localname == name]
    return f"{name}[{same.index(element) + 1}]" if name in _REPEATED or len(same) > 1 else name


# --- reading -----------------------------------------------------------------

class _Reader:
    """Reads CAP elements of one namespace, collecting every problem before raising."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace
        self.errors: list[FieldError] = []

    def all(self, parent: etree._Element, name: str) -> list[etree._Element]:
        return parent.findall(f"{{{self.ns}}}{name}")

    def text(self, parent: etree._Element, name: str) -> str | None:
        element = parent.find(f"{{{self.ns}}}{name}")
        return None if element is None else (element.text or "").strip()

    def texts(self, parent: etree._Element, name: str) -> list[str]:
        return [(element.text or "").strip() for element in self.all(parent, name)]

    def pairs(self, parent: etree._Element, name: str) -> list[tuple[str, str]]:
        return [
            (self.text(element, "valueName") or "", self.text(element, "value") or "")
            for element in self.all(parent, name)
        ]

    def time(self, parent: etree._Element, name: str, location: str) -> datetime | None:
        value = self.text(parent, name)
        if value is None:
            return None
        parsed, problem = aware_datetime(value)
        if problem:
            self.errors.append(FieldError(f"{location}/{name}", problem))
        return parsed

    def number(self, parent: etree._Element, name: str, location: str) -> float | None:
        value = self.text(parent, name)
        if value is None:
            return None
        number = _decimal(value)
        if number is None:
            self.errors.append(FieldError(f"{location}/{name}", f"{quoted(value)} is not a number"))
        return number


def _read_alert(root: etree._Element, namespace: str) -> AlertMessage:
    read = _Reader(namespace)
    message = AlertMessage(
        identifier=read.text(root, "identifier") or "",
        sender=read.text(root, "sender") or "",
        # <sent> is required by the schema; read.time() has recorded any problem, which rejects the message
        sent=read.time(root, "sent", "/alert") or datetime.now(UTC),
        status=read.text(root, "status") or "",
        msg_type=read.text(root, "msgType") or "",
        scope=read.text(root, "scope") or "",
        source=read.text(root, "source"),
        restriction=read.text(root, "restriction"),
        addresses=read.text(root, "addresses"),
        codes=read.texts(root, "code"),
        note=read.text(root, "note"),
        references=_references(read, root),
        incidents=(read.text(root, "incidents") or "").split(),
        infos=[
            _read_info(read, info, f"/alert/info[{index}]")
            for index, info in enumerate(read.all(root, "info"), start=1)
        ],
        format=_FORMATS[namespace],
    )
    if read.errors:
        raise invalid_fields("The message has values that cannot be read", read.errors)
    return message


def _references(read: _Reader, root: etree._Element) -> list[Reference]:
    references = []
    for token in (read.text(root, "references") or "").split():
        reference = reference_from_text(token)
        if reference is None:
            read.errors.append(FieldError(
                "/alert/references", f"{quoted(token)} is not a 'sender,identifier,sent' triple"))
        else:
            references.append(reference)
    return references


def reference_from_text(token: str) -> Reference | None:
    """One "sender,identifier,sent" entry of CAP <references>, or None when malformed."""
    parts = token.split(",")
    if len(parts) != 3 or not all(parts) or any(part != part.strip() for part in parts):
        return None
    return Reference(*parts)


def aware_datetime(value: str) -> tuple[datetime | None, str | None]:
    """(datetime, None) for an ISO 8601 date-time with a zone, else (None, the problem)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None, f"{quoted(value)} is not an ISO 8601 date-time"
    if parsed.tzinfo is None:
        return None, f"{quoted(value)} has no time zone (write e.g. 2024-05-01T14:30:00+08:00)"
    return parsed, None


def quoted(text: str, limit: int = 40) -> str:
    """A sender's value, quoted and cut short for an error message."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _read_info(read: _Reader, info: etree._Element, location: str) -> InfoBlock:
    return InfoBlock(
        language=read.text(info, "language") or "en-US",
        categories=read.texts(info, "category"),
        event=read.text(info, "event") or "",
        response_types=read.texts(info, "responseType"),
        urgency=read.text(info, "urgency") or "",
        severity=read.text(info, "severity") or "",
        certainty=read.text(info, "certainty") or "",
        audience=read.text(info, "audience"),
        event_codes=read.pairs(info, "eventCode"),
        effective=read.time(info, "effective", location),
        onset=read.time(info, "onset", location),
        expires=read.time(info, "expires", location),
        sender_name=read.text(info, "senderName"),
        headline=read.text(info, "headline"),
        description=read.text(info, "description"),
        instruction=read.text(info, "instruction"),
        web=read.text(info, "web"),
        contact=read.text(info, "contact"),
        parameters=read.pairs(info, "parameter"),
        areas=[
            _read_area(read, area, f"{location}/area[{index}]")
            for index, area in enumerate(read.all(info, "area"), start=1)
        ],
    )


def _read_area(read: _Reader, area: etree._Element, location: str) -> AreaBlock:
    polygons = []
    for index, text in enumerate(read.texts(area, "polygon"), start=1):
        points, problem = _polygon(text)
        if problem:
            read.errors.append(FieldError(f"{location}/polygon[{index}]", problem))
        polygons.append(points)
    circles = []
    for index, text in enumerate(read.texts(area, "circle"), start=1):
        circle = _circle(text)
        if circle is None:
            read.errors.append(FieldError(
                f"{location}/circle[{index}]", f"{quoted(text)} is not 'lat,lon radius_km'"))
        else:
            circles.append(circle)
    return AreaBlock(
        description=read.text(area, "areaDesc") or "",
        polygons=polygons,
        circles=circles,
        geocodes=read.pairs(area, "geocode"),
        altitude=read.number(area, "altitude", location),
        ceiling=read.number(area, "ceiling", location),
    )


def _polygon(text: str) -> tuple[list[tuple[float, float]], str | None]:
    """CAP "lat,lon lat,lon ..." to (lat, lon) pairs; the problem names the first bad point."""
    points: list[tuple[float, float]] = []
    for number, token in enumerate(text.split(), start=1):
        point = _point(token)
        if point is None:
            return points, f"point {number} {quoted(token)} is not a 'lat,lon' pair of numbers"
        points.append(point)
    return points, None


def _circle(text: str) -> Circle | None:
    tokens = text.split()
    if len(tokens) != 2:
        return None
    point, radius = _point(tokens[0]), _decimal(tokens[1])
    if point is None or radius is None:
        return None
    return Circle(lat=point[0], lon=point[1], radius_km=radius)


def _point(token: str) -> tuple[float, float] | None:
    parts = token.split(",")
    if len(parts) != 2:
        return None
    lat, lon = _decimal(parts[0]), _decimal(parts[1])
    return None if lat is None or lon is None else (lat, lon)


def _decimal(text: str) -> float | None:
    """A plain decimal number as CAP writes coordinates (no exponent, no nan or inf)."""
    return float(text) if _DECIMAL.fullmatch(text) else None
