"""County emergency-broadcast platforms on loopback, for the broadcast adapter and the CLI.

One real HTTP server for several platforms: POST /ebm/<platform> where a platform is a county
code ("513301") or a county code and a name ("513301/exercise"), each with its own secret, as
each county's platform has its own key. A package (format: warning_service/channels/broadcast.py)
is answered with a receipt tar holding an EBDResponse:
  2  not a tar, or not XML             4  the signature does not verify with the platform's secret
  3  a file or a field is missing       5  no AreaCode inside the platform's county
  1  a ConnectionCheck (heartbeat), or an EBM, which is recorded: `received()`.
The signature and the XML are checked here independently of the adapter; only the tar framing
(stdlib tarfile) and the receipt's EBD header are the adapter's.

`fail(mode)` for every platform, `fail(mode, platform)` for one; "none" restores them all:
  slow     wait `slow_seconds`, then answer     timeout  hold `hold_seconds` (longer than the
  5xx      HTTP 500                                      adapter's timeout), then hang up
  429      HTTP 429, Retry-After: 1              drop     read the request, hang up unanswered
  down     HTTP 503: the platform is out of service
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import tarfile
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lxml import etree

from peers.received import FAILURE_MODES, Received
from warning_service.channels.broadcast.http import ebd_document, pack_tar, unpack_tar

MODES = (*FAILURE_MODES, "down")
HTTP_FAILURES = {"5xx": 500, "429": 429, "down": 503}
BASIC_FIELDS = ("MsgType", "SenderName", "SenderCode", "SendTime", "EventType", "Severity", "StartTime", "EndTime")
TIBETAN_CODES = ("tib", "bod")
_PATH = re.compile(r"^/ebm/(\d{6}(?:/[\w-]+)?)$")


class Refused(Exception):
    """The package cannot be accepted: carries the receipt's ResultCode and ResultDesc."""

    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code = code
        self.text = text


class BroadcastPeer:
    """Use as a context manager: `with BroadcastPeer({"513301": secret}) as peer: peer.url("513301")`."""

    def __init__(self, secrets: Mapping[str, str], slow_seconds: float = 0.2, hold_seconds: float = 10.0,
                 port: int = 0, host: str = "127.0.0.1"):
        self.secrets = dict(secrets)
        self.slow_seconds = slow_seconds
        self.hold_seconds = hold_seconds
        self.heartbeats: list[str] = []  # the platforms that answered one
        self._received: list[Received] = []
        self._modes: dict[str | None, str] = {None: "none"}
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._receipt_ids = itertools.count(1)
        self._server = ThreadingHTTPServer((host, port), type("Handler", (_Handler,), {"peer": self}))
        self._server.daemon_threads = True
        # A short poll interval: stopping waits for it, once per test.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="broadcast-peer", daemon=True)

    def __enter__(self) -> BroadcastPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def url(self, platform: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/ebm/{platform}"

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def fail(self, mode: str, platform: str | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown failure mode {mode!r}; choose one of {', '.join(MODES)}")
        if platform is None:
            self._modes = {None: mode}
        else:
            self._modes[platform] = mode

    def mode(self, platform: str) -> str:
        return self._modes.get(platform, self._modes[None])

    def hold(self) -> None:
        """Keep a request waiting, past the adapter's timeout, until `hold_seconds` pass or the peer stops."""
        self._release.wait(self.hold_seconds)

    def answer(self, platform: str, body: bytes) -> bytes:
        """The receipt tar for a package posted to a platform."""
        related = None
        try:
            related, code, text = self._accept(platform, body)
        except Refused as refusal:
            code, text = refusal.code, refusal.text
        return self._receipt(platform, related, code, text)

    def _accept(self, platform: str, body: bytes) -> tuple[str, str, str]:
        try:
            files = unpack_tar(body)
        except tarfile.TarError:
            raise Refused("2", "接收解析失败: not a tar") from None
        names = [name for name in files if name.startswith("EBDB_")]
        if len(names) != 1 or f"EBDS_{names[0]}" not in files:
            raise Refused("3", "数据内容缺失: one EBDB file and its EBDS signature")
        document = files[names[0]]
        if not self._signed(platform, document, files[f"EBDS_{names[0]}"]):
            raise Refused("4", "签名验证失败")
        root = _xml(document)
        if root.findtext("EBDType") == "ConnectionCheck":
            with self._lock:
                self.heartbeats.append(platform)
            return root.findtext("EBDID"), "1", "心跳正常"
        received = _ebm(root, files, self.url(platform))
        if not any(code.startswith(platform[:6]) for code in received.extra["area_codes"]):
            raise Refused("5", f"AreaCode outside county {platform[:6]}")
        with self._lock:
            self._received.append(received)
        return root.findtext("EBDID"), "1", "接收成功"

    def _signed(self, platform: str, document: bytes, signature_file: bytes) -> bool:
        value = _xml(signature_file).findtext("SignatureValue") or ""
        expected = hmac.new(self.secrets[platform].encode(), document, hashlib.sha256).digest()
        return hmac.compare_digest(value.strip().encode(), base64.b64encode(expected))

    def _receipt(self, platform: str, related: str | None, code: str, text: str) -> bytes:
        source = f"{platform[:6]}000000"
        receipt_id = f"{source}{next(self._receipt_ids):016d}"
        parts = []
        if related:
            parts.append(etree.Element("RelatedEBD"))
            etree.SubElement(parts[-1], "EBDID").text = related
        response = etree.Element("EBDResponse")
        etree.SubElement(response, "ResultCode").text = code
        etree.SubElement(response, "ResultDesc").text = text
        document = ebd_document(receipt_id, "EBDResponse", source, datetime.now(UTC), *parts, response)
        return pack_tar({f"EBDB_{receipt_id}.xml": document})


def _xml(document: bytes) -> etree._Element:
    try:
        return etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        raise Refused("2", "接收解析失败: not well-formed XML") from None


def _required(element: etree._Element, path: str) -> str:
    text = (element.findtext(path) or "").strip()
    if not text:
        raise Refused("3", f"数据内容缺失: {path}")
    return text


def _ebm(root: etree._Element, files: Mapping[str, bytes], url: str) -> Received:
    ebm = root.find("EBM")
    if ebm is None:
        raise Refused("3", "数据内容缺失: EBM")
    basic = {name: _required(ebm, f"MsgBasicInfo/{name}") for name in BASIC_FIELDS}
    contents = ebm.findall("MsgContent")
    if not contents:
        raise Refused("3", "数据内容缺失: MsgContent")
    languages = [_required(content, "LanguageCode") for content in contents]
    descriptions = {language: _required(content, "MsgDesc") for language, content in zip(languages, contents)}
    tibetan_first = sorted(languages, key=lambda code: code not in TIBETAN_CODES)
    return Received(
        address=url,
        texts=tuple(descriptions[language] for language in tibetan_first),
        extra={
            "ebm_id": _required(ebm, "EBMID"),
            "msg_type": basic["MsgType"],
            "basic": basic,
            "languages": languages,
            "titles": {language: content.findtext("MsgTitle") for language, content in zip(languages, contents)},
            "area_codes": _required(contents[0], "AreaCode").split(","),
            "auxiliary": [_auxiliary(element, language, files) for language, content in zip(languages, contents)
                          for element in content.findall("Auxiliary")],
        },
    )


def _auxiliary(element: etree._Element, language: str, files: Mapping[str, bytes]) -> dict:
    name = _required(element, "AuxiliaryDesc")
    data = files.get(name)
    if data is None or _required(element, "Size") != str(len(data)):
        raise Refused("3", f"数据内容缺失: auxiliary file {name}")
    if _required(element, "Digest") != hashlib.sha256(data).hexdigest():
        raise Refused("3", f"auxiliary file {name} does not match its digest")
    return {"name": name, "type": _required(element, "AuxiliaryType"), "language": language, "data": data}


class _Handler(BaseHTTPRequestHandler):
    peer: BroadcastPeer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = _PATH.match(self.path)
        if not match or match[1] not in self.peer.secrets:
            self._reply(404, b"no such platform", "text/plain")
            return
        platform = match[1]
        mode = self.peer.mode(platform)
        if mode == "timeout":
            self.peer.hold()
        if mode in ("timeout", "drop"):
            self.close_connection = True
            return
        if mode in HTTP_FAILURES:
            headers = {"Retry-After": "1"} if mode == "429" else None
            self._reply(HTTP_FAILURES[mode], mode.encode(), "text/plain", headers)
            return
        if mode == "slow":
            time.sleep(self.peer.slow_seconds)
        self._reply(200, self.peer.answer(platform, body), "application/x-tar")

    def _reply(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        pass
