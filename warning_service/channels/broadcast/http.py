"""County emergency-broadcast platforms (BROADCAST_GATEWAY=http): one signed EBM package per endpoint.

China's emergency-broadcast platforms (GD/J 080–085-2018, now GY/T 383–389-2023) pass
each other XML documents packed in a tar, by HTTP POST as application/x-tar. What we post:

    EBDB_<EBDID>.xml        the EBD (EBDType "EBM") holding the message
    EBDS_EBDB_<EBDID>.xml   its detached signature
    EBDR_<county>_<file>    recorded Tibetan audio, named by an <Auxiliary> of the Tibetan content

and the platform answers with a tar (or the bare XML) holding an EBD of EBDType "EBDResponse":
ResultCode 1 accepted, 0 received (not yet processed), 2 unparseable, 3 data missing,
4 signature invalid, 5 other error. A ConnectionCheck EBD (the heartbeat) reaches a platform
without broadcasting anything: `check_endpoint`.

Element and file names and the result codes follow open-source platform implementations, not
the standard's text, which we could not read: PayYouDont/yjgb_sb (EBD_EBM.java, EBD_EBDResponse.java,
EBD_Signature.java, TarUtil.java, HttpClientUtil.java) and CavanOrBxj/Butt_joint_SoftWare_LiShui
(EBM.cs, responseXML.cs, bin/Debug/HeartBeat/EBDB_*.xml and EBDS_EBDB_*.xml). Our own choices,
unverified against the standard:
- Signature: Base64 HMAC-SHA256 of the EBDB file's bytes with the endpoint's secret, in the
  implementations' <Signature> layout. Real platforms sign with SM2/SM3 and certificates from a
  signing device; connecting one means replacing `signature()`. Audio is covered through the
  SHA-256 <Digest> its <Auxiliary> carries inside the signed EBDB. Receipts are not verified.
- EBMID (also the EBDID): the sender code and 16 digits of a SHA-256 of (alert sender, identifier,
  platform URL). The same on every retry, so a platform drops a repeated POST, and computable
  again for a later Cancel that names the alert.
- MsgType: 1 Actual, 2 Cancel, 3 (platform drill; 4 and 5 are drills further down) for Exercise
  and Test. Severity: 1 red, 2 orange, 3 yellow, 4 blue, 0 no level. EventType: the hazard's
  national early-warning event type where the catalogue has a verified one (11B03 rainstorm),
  else our hazard code.
- Times "YYYY-MM-DD HH:MM:SS" in Beijing time; without an expiry, EndTime is an hour after StartTime.
- One <MsgContent> per language, Tibetan ("tib") first, then Chinese ("zho"); each has the same
  AreaCode: comma-separated 12-digit codes, the counties as code + "000000", then the townships.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import logging
import tarfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
from lxml import etree

from ...hazards import catalogue
from ...rendering.formatting import beijing_time
from ..base import AlertContent, Capabilities, ChannelAdapter, GatewayUnavailable, OutboundMessage, Outcome, SendResult

logger = logging.getLogger(__name__)

BEIJING = timezone(timedelta(hours=8))  # China keeps no daylight saving time
# Our languages as the platforms name them, in the order the contents are written.
LANGUAGE_CODES = {"bo": "tib", "zh": "zho"}
SEVERITIES = {"red": "1", "orange": "2", "yellow": "3", "blue": "4"}
NO_SEVERITY = "0"
MSG_ACTUAL, MSG_CANCEL, MSG_DRILL = "1", "2", "3"
DURATION_WITHOUT_EXPIRY = timedelta(hours=1)
AUDIO_AUXILIARY_TYPE = "2"  # what yjgb_sb writes for an MP3
ACCEPTED_RESULT_CODES = frozenset({"0", "1"})
COUNTIES = 31
_SCHEMA_NAMESPACE = "http://www.w3.org/2001/XMLSchema"  # declared on <EBD> by the implementations


@dataclass(frozen=True)
class Package:
    ebd_id: str
    body: bytes  # the tar


@dataclass(frozen=True)
class Audio:
    name: str  # its file name in the tar
    data: bytes

    def auxiliary(self) -> etree._Element:
        element = etree.Element("Auxiliary")
        _add_fields(element, {"AuxiliaryType": AUDIO_AUXILIARY_TYPE, "AuxiliaryDesc": self.name,
                              "Size": str(len(self.data)), "Digest": hashlib.sha256(self.data).hexdigest()})
        return element


@dataclass(frozen=True)
class Receipt:
    code: str
    text: str

    @property
    def accepted(self) -> bool:
        return self.code in ACCEPTED_RESULT_CODES


class Failure(Exception):
    """No receipt: the platform could not be reached, or refused at the HTTP level."""

    def __init__(self, outcome: Outcome, code: str, text: str, retry_after: float | None = None):
        super().__init__(f"{code}: {text}")
        self.outcome = outcome
        self.code = code
        self.text = text
        self.retry_after = retry_after


class BroadcastAdapter(ChannelAdapter):
    name = "http"
    channels = frozenset({"broadcast"})

    def capabilities(self) -> Capabilities:
        # A platform per county and a handful of exercise ones: nothing a shared rate must protect.
        return Capabilities(max_batch=COUNTIES, rate_per_second=None, rate_key="broadcast")

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        if not messages:
            return []
        # All at once: in an earthquake warning one slow county must not hold up the others.
        with ThreadPoolExecutor(max_workers=min(len(messages), COUNTIES)) as pool:
            return list(pool.map(self._send, messages))

    def check(self) -> str:
        return "checked per endpoint by `flask channels check`"

    def _send(self, message: OutboundMessage) -> SendResult:
        if not message.secret:
            result = SendResult(message.delivery_id, Outcome.PERMANENT, code="no-secret",
                                text="the endpoint has no signing secret")
        else:
            try:
                result = self._post(message)
            except ValueError as exc:  # lxml refuses text XML cannot hold (control characters)
                result = SendResult(message.delivery_id, Outcome.PERMANENT, code="bad-content", text=str(exc))
        logger.log(logging.INFO if result.outcome == Outcome.ACCEPTED else logging.WARNING,
                   "broadcast alert=%s delivery=%s ebm=%s to=%s: %s %s %s", message.content.alert_id,
                   message.delivery_id, result.gateway_id, message.address, result.outcome.value, result.code,
                   result.text, extra={"alert_id": message.content.alert_id, "delivery_id": message.delivery_id})
        return result

    def _post(self, message: OutboundMessage) -> SendResult:
        package = ebm_package(message, self.settings)
        try:
            receipt = exchange(message.address, package.body, float(self.settings["BROADCAST_TIMEOUT_SECONDS"]))
        except Failure as failure:
            return SendResult(message.delivery_id, failure.outcome, package.ebd_id, failure.code, failure.text,
                              failure.retry_after)
        outcome = Outcome.ACCEPTED if receipt.accepted else Outcome.PERMANENT
        return SendResult(message.delivery_id, outcome, package.ebd_id, receipt.code, receipt.text)


def check_endpoint(url: str, secret: str, settings: Mapping[str, Any]) -> str:
    """Send a platform a signed heartbeat (ConnectionCheck, no alert) and say what it answered.
    Raises GatewayUnavailable with the reason when it cannot be reached or refuses."""
    now = datetime.now(BEIJING)
    sender_code = str(settings["BROADCAST_SENDER_CODE"])
    ebd_id = f"{sender_code}{time.time_ns() % 10**16:016d}"
    heartbeat = etree.Element("ConnectionCheck")
    _add_fields(heartbeat, {"RptTime": beijing_time(now, seconds=True)})
    body = signed_tar(ebd_id, ebd_document(ebd_id, "ConnectionCheck", sender_code, now, heartbeat), secret, now)
    try:
        receipt = exchange(url, body, float(settings["BROADCAST_TIMEOUT_SECONDS"]))
    except Failure as failure:
        raise GatewayUnavailable(str(failure)) from None
    if not receipt.accepted:
        raise GatewayUnavailable(f"heartbeat refused: ResultCode {receipt.code} {receipt.text}")
    return f"heartbeat answered: ResultCode {receipt.code} {receipt.text}"


# --- the package --------------------------------------------------------------

def ebm_package(message: OutboundMessage, settings: Mapping[str, Any]) -> Package:
    """The tar for one endpoint: the EBM, its signature and any recorded Tibetan audio."""
    now = datetime.now(BEIJING)
    sender_code = str(settings["BROADCAST_SENDER_CODE"])
    content = message.content
    ebm_id = message_id(sender_code, content.sender, content.identifier, message.address)
    related = [message_id(sender_code, *_sender_and_identifier(reference), message.address) for reference in content.references]
    audio = recorded_audio(content, message.county_code, Path(str(settings["BROADCAST_AUDIO_DIR"])))
    ebm = ebm_element(ebm_id, content, settings, now, audio, related)
    document = ebd_document(ebm_id, "EBM", sender_code, now, ebm)
    return Package(ebm_id, signed_tar(ebm_id, document, str(message.secret), now, audio))


def _sender_and_identifier(reference: str) -> tuple[str, str]:
    """The first two fields of a CAP reference, "sender,identifier,sent"."""
    fields = reference.split(",")
    return fields[0], fields[1]


def message_id(sender_code: str, sender: str, identifier: str, address: str) -> str:
    """The EBM id of an alert at one platform: the same for every retry, so the platform drops
    a repeat, and computable for an earlier alert, so a Cancel can name what it cancels."""
    digest = hashlib.sha256("\n".join((sender, identifier, address)).encode()).digest()
    return f"{sender_code}{int.from_bytes(digest[:8], 'big') % 10**16:016d}"


def ebd_document(ebd_id: str, ebd_type: str, source_code: str, now: datetime, *parts: etree._Element) -> bytes:
    """An EBD with its header and the given parts (the EBM, a ConnectionCheck, a receipt), as UTF-8."""
    root = etree.Element("EBD", nsmap={"xs": _SCHEMA_NAMESPACE})
    _add_fields(root, {"EBDVersion": "1.0", "EBDID": ebd_id, "EBDType": ebd_type})
    _add_fields(etree.SubElement(root, "SRC"), {"EBRID": source_code})
    _add_fields(root, {"EBDTime": beijing_time(now, seconds=True)})
    root.extend(parts)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def ebm_element(ebm_id: str, content: AlertContent, settings: Mapping[str, Any], now: datetime,
                audio: Sequence[Audio], related: Sequence[str] = ()) -> etree._Element:
    ebm = etree.Element("EBM")
    _add_fields(ebm, {"EBMVersion": "1", "EBMID": ebm_id})
    if related:  # an Update or Cancel names the messages it acts on
        _add_fields(etree.SubElement(ebm, "RelatedInfo"), {"EBMID": ",".join(related)})
    start = content.onset or content.sent
    _add_fields(etree.SubElement(ebm, "MsgBasicInfo"), {
        "MsgType": msg_type(content),
        "SenderName": str(settings["BROADCAST_SENDER_NAME"]),
        "SenderCode": str(settings["BROADCAST_SENDER_CODE"]),
        "SendTime": beijing_time(now, seconds=True),
        "EventType": event_type(content.hazard_code),
        "Severity": SEVERITIES.get(content.level or "", NO_SEVERITY),
        "StartTime": beijing_time(start, seconds=True),
        "EndTime": beijing_time(content.expires or start + DURATION_WITHOUT_EXPIRY, seconds=True),
    })
    areas = ",".join(area_codes(content))
    for language, code in LANGUAGE_CODES.items():
        if language not in content.bodies:
            continue
        block = etree.SubElement(ebm, "MsgContent")
        _add_fields(block, {"LanguageCode": code, "MsgTitle": content.titles.get(language, content.event or ""),
                            "MsgDesc": content.bodies[language], "AreaCode": areas})
        if language == "bo":
            block.extend(item.auxiliary() for item in audio)
    return ebm


def msg_type(content: AlertContent) -> str:
    if content.msg_type == "Cancel":
        return MSG_CANCEL
    return MSG_ACTUAL if content.status == "Actual" else MSG_DRILL


def event_type(hazard_code: str | None) -> str:
    hazard = catalogue().get(hazard_code) if hazard_code else None
    if hazard is not None and hazard.national_event_codes:
        return hazard.national_event_codes[0]
    return hazard_code or "other"


def area_codes(content: AlertContent) -> list[str]:
    return [f"{code}000000" for code in content.county_codes] + list(content.township_codes)


def recorded_audio(content: AlertContent, county: str | None, directory: Path) -> list[Audio]:
    """The county's own recording of the hazard's Tibetan warning (<dir>/<county>/<hazard>.bo.<ext>),
    if it has one: recordings are made locally, in the county's own speech."""
    if not content.hazard_code or not county:
        return []
    path = min((directory / county).glob(f"{content.hazard_code}.bo.*"), default=None)
    if path is None:
        return []
    try:
        return [Audio(f"EBDR_{county}_{path.name}", path.read_bytes())]
    except OSError as exc:  # the warning goes out without it: its text still reaches screens
        logger.warning("broadcast audio %s unreadable: %s", path, exc)
        return []


def signed_tar(ebd_id: str, document: bytes, secret: str, now: datetime, attachments: Sequence[Audio] = ()) -> bytes:
    name = f"EBDB_{ebd_id}.xml"
    files = {name: document, f"EBDS_{name}": signature_document(ebd_id, document, secret, now)}
    files.update((item.name, item.data) for item in attachments)
    return pack_tar(files)


def signature_document(ebd_id: str, document: bytes, secret: str, now: datetime) -> bytes:
    root = etree.Element("Signature")
    _add_fields(root, {"Version": "1.0"})
    _add_fields(etree.SubElement(root, "RelatedEBD"), {"EBDID": ebd_id})
    _add_fields(root, {"SignatureTime": beijing_time(now, seconds=True), "DigestAlgorithm": "SHA256",
                       "SignatureAlgorithm": "HMAC-SHA256", "SignatureValue": signature(secret, document)})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def signature(secret: str, document: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), document, hashlib.sha256).digest()).decode("ascii")


def pack_tar(files: Mapping[str, bytes]) -> bytes:
    """Plain ustar, which every platform's tar library reads."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack_tar(data: bytes) -> dict[str, bytes]:
    """The regular files of a tar, in memory; tarfile.TarError if it is not one."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return {member.name: file.read() for member in tar.getmembers()
                if member.isfile() and (file := tar.extractfile(member)) is not None}


def _add_fields(parent: etree._Element, fields: Mapping[str, str]) -> None:
    for tag, text in fields.items():
        etree.SubElement(parent, tag).text = text


# --- the exchange -------------------------------------------------------------

def exchange(url: str, body: bytes, timeout: float) -> Receipt:
    """POST a package and read the platform's receipt; Failure when there is none to read."""
    try:
        response = requests.post(url, data=body, headers={"Content-Type": "application/x-tar"},
                                 timeout=timeout, allow_redirects=False)
    except (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
            requests.exceptions.InvalidURL) as exc:
        raise Failure(Outcome.PERMANENT, "bad-url", str(exc)) from None
    except requests.Timeout:
        raise Failure(Outcome.TRANSIENT, "timeout", f"no answer within {timeout:g} s") from None
    except requests.RequestException as exc:
        raise Failure(Outcome.TRANSIENT, "connection", f"{type(exc).__name__}: {exc}"[:300]) from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise Failure(Outcome.TRANSIENT, str(status), response.reason or "", _retry_after(response))
    if not 200 <= status < 300:
        raise Failure(Outcome.PERMANENT, str(status), response.reason or "")
    receipt = read_receipt(response.content)
    if receipt is None:
        # Posting again is safe: the platform drops an EBMID it already has.
        raise Failure(Outcome.TRANSIENT, "no-receipt", "the platform answered without a readable EBDResponse")
    return receipt


def read_receipt(body: bytes) -> Receipt | None:
    """The EBDResponse in a platform's answer: a tar holding an EBDB_*.xml, or that XML alone."""
    try:
        root = etree.fromstring(_receipt_document(body),
                                etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError:
        return None
    code = _text(root, "ResultCode")
    return Receipt(code, _text(root, "ResultDesc")) if code else None


def _receipt_document(body: bytes) -> bytes:
    """The EBD of a tar (not its signature; empty, which no parser accepts, when there is none), or the body."""
    try:
        files = unpack_tar(body)
    except tarfile.TarError:
        return body
    return next((data for name, data in files.items() if name.startswith("EBDB_") and name.endswith(".xml")), b"")


def _text(root: etree._Element, name: str) -> str:
    return root.xpath("string(//*[local-name()=$name])", name=name).strip()


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None
