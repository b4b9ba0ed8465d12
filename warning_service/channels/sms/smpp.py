"""SMS through an operator's SMS centre over SMPP 3.4 (SMS_GATEWAY=smpp), with smpplib.

Binds. SMPP_BINDS transceiver binds per worker process, opened at the first batch and kept
across jobs (the worker keeps one adapter: dispatch/jobs.py). Each bind has a thread that reads
it: it answers enquire_link, sends its own after `enquire_interval` of silence, and when the
link is lost, unbound or silent for two intervals it reconnects, with a back-off, until the
adapter is closed. A batch's submit_sm go out on whichever bind has room in its window
(SMPP_WINDOW submit_sm waiting for their submit_sm_resp).

Text. Every text goes as UCS-2 (data_coding 8): Tibetan and Chinese are not in GSM-7. A text
of up to 70 UTF-16 units is one submit_sm; a longer one goes in parts of up to 67 units, each
behind a 6-octet concatenation UDH (esm_class 0x40, 8-bit reference), cut by
rendering.fit.split_parts: never inside a Tibetan stack or a surrogate pair, at the best break
a part allows. The rate tokens (`cost`) are submit_sm, which is what SMPP_MAX_TPS counts.

Answers. ESME_RTHROTTLED and ESME_RMSGQFUL stop every bind for a pause (50 ms, doubling while
they go on, halving with each part accepted) and the part goes again, for up to `patience`
seconds; what is still unsent then is TRANSIENT, and was never sent. ESME_RSYSERR,
ESME_RX_T_APPN and ESME_RINVBNDSTS are the SMSC's own trouble: TRANSIENT. Any other status is
PERMANENT, with the status's name as the code. A part whose bind is lost before its answer
goes again on the next bind up (it may have gone already: a warning twice beats a warning
missed), up to MAX_TRIES times; a part with no answer after `submit_timeout` is TRANSIENT
("may have been sent") and its bind is reopened.

Results. A recipient's texts and all their parts go at once. The delivery is ACCEPTED when
every part was; its gateway id is the first part's of the first text (the recipient's
preferred language), and its text lists every part's message id, as Twilio's SIDs are.

Receipts. As with Twilio, only the receipts of a delivery's gateway id move it, so only that
part asks for them (registered_delivery 1; 0 on the other parts): a bilingual warning of six
parts costs the SMSC, and us, one receipt instead of six. A deliver_sm whose esm_class says
"SMSC delivery receipt" (0x04) names its message by the receipted_message_id TLV or the text's
`id:`, its state by the message_state TLV or `stat:`. Receipts go to the adapter's receipts
thread, which applies them in batches through channels/receipts.py (smpp_receipts.py) and
answers their deliver_sm only after the commit, with
ESME_RX_T_APPN when the database failed so that the SMSC delivers them again; a receipt lost
with its process was never answered, so the SMSC delivers it again on another bind. A receipt
that beats its submit_sm_resp or the job's commit is kept as an early receipt, as a Twilio
status callback is.
"""
from __future__ import annotations

import itertools
import logging
import math
import queue
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import smpplib.client
import smpplib.consts as consts
import smpplib.exceptions
import smpplib.smpp
from smpplib.command import Command

from ...rendering import tibetan
from ...rendering.budgets import UCS2_PER_PART, UCS2_SINGLE, Measure, utf16_units
from ...rendering.fit import split_parts
from ..base import Capabilities, ChannelAdapter, GatewayUnavailable, OutboundMessage, Outcome, SendResult
from .smpp_receipts import MESSAGE_STATE_NAMES, DatabaseReceipts, Receipt

logger = logging.getLogger(__name__)

MAX_BATCH = 1_000
MAX_PARTS = 255          # the UDH counts parts in one octet
MAX_TRIES = 3            # submits of one part whose bind was lost before its answer
UCS2 = 8                 # data_coding
UDH_INDICATOR = 0x40     # esm_class: the short message starts with a user data header
RECEIPT_TYPE = 0x04      # esm_class bits 2-5 of a deliver_sm: SMSC delivery receipt
RECEIPT_BATCH = 500      # receipts applied in one transaction
MIN_PAUSE, MAX_PAUSE = 0.05, 2.0
RECONNECT_MIN, RECONNECT_MAX = 0.1, 30.0
ROK = consts.SMPP_ESME_ROK
SLOW_DOWN = frozenset({consts.SMPP_ESME_RTHROTTLED, consts.SMPP_ESME_RMSGQFUL})
TRANSIENT_STATUSES = frozenset({consts.SMPP_ESME_RSYSERR, consts.SMPP_ESME_RX_T_APPN, consts.SMPP_ESME_RINVBNDSTS})
STATUS_NAMES = {value: name.removeprefix("SMPP_") for name, value in vars(consts).items()
                if name.startswith("SMPP_ESME_") and isinstance(value, int)}
TON_INTERNATIONAL, TON_ALPHANUMERIC, NPI_ISDN = 1, 5, 1
MAX_SYSTEM_ID, MAX_PASSWORD = 15, 8  # C-Octet strings of 16 and 9 octets


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, f"0x{status:08X}")


@dataclass(frozen=True)
class Ucs2Part:
    """The budget of one concatenated part: 140 octets less the 6-octet UDH, in UTF-16 units."""

    @property
    def name(self) -> str:
        return f"SMPP UCS-2 part ({UCS2_PER_PART} units)"

    def measure(self, text: str) -> Measure:
        units = utf16_units(tibetan.normalise(text))
        return Measure(units, 1, "UCS-2", units <= UCS2_PER_PART)


@lru_cache(maxsize=256)
def ucs2_parts(text: str) -> tuple[bytes, ...]:
    """The text's short messages in UCS-2 (UTF-16BE), without UDH: one when it fits one SMS.
    Cached: a million recipients share a handful of texts. Raises ValueError when it cannot go."""
    text = tibetan.normalise(text)
    if utf16_units(text) <= UCS2_SINGLE:
        return (text.encode("utf-16-be"),)
    parts = split_parts(text, Ucs2Part())
    if len(parts) > MAX_PARTS:
        raise ValueError(f"{len(parts)} parts of {UCS2_PER_PART} UCS-2 units, more than {MAX_PARTS}")
    return tuple(part.encode("utf-16-be") for part in parts)


def concatenated(parts: Sequence[bytes], reference: int) -> list[bytes]:
    """Each part behind its UDH (IEI 0x00: 8-bit reference, total, sequence number from 1)."""
    if len(parts) == 1:
        return list(parts)
    return [bytes((5, 0, 3, reference & 0xFF, len(parts), number)) + part for number, part in enumerate(parts, 1)]


def address(number: str) -> tuple[int, int, str]:
    """(TON, NPI, digits) of an address: +E.164 is international, digits unknown, anything else alphanumeric."""
    if number.startswith("+") and number[1:].isdigit():
        return TON_INTERNATIONAL, NPI_ISDN, number[1:]
    if number.isdigit():
        return 0, NPI_ISDN, number
    return TON_ALPHANUMERIC, 0, number


def parse_receipt(pdu: Command) -> Receipt | None:
    """The receipt a deliver_sm carries, or None when it is something else (a reply from a phone)."""
    if (pdu.esm_class or 0) & 0x3C != RECEIPT_TYPE:
        return None
    fields = _receipt_text(pdu.short_message or b"")
    message_id = _text(pdu.receipted_message_id) or fields.get("id", "")
    state = MESSAGE_STATE_NAMES.get(pdu.message_state or 0) or fields.get("stat", "").upper()
    if not message_id or not state:
        return None
    return Receipt(message_id, state, fields.get("err"))


def _receipt_text(raw: bytes) -> dict[str, str]:
    """`id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…` (SMPP 3.4 appendix B) as a dict."""
    words = raw.decode("latin-1").replace("submit date:", "submit_date:").replace("done date:", "done_date:").split()
    return {key.lower(): value for key, _, value in (word.partition(":") for word in words) if value}


def _text(value: bytes | str | None) -> str:
    return (value.decode("latin-1") if isinstance(value, bytes) else value or "").strip("\x00 ")


class ReceiptSink(Protocol):
    def apply(self, receipts: Sequence[Receipt]) -> object:
        """Make the receipts durable, or raise."""

    def close(self) -> None: ...


class _Link(smpplib.client.Client):
    """smpplib's client, written by one thread at a time (the batch's, the bind's reader, the receipts'),
    with the submit_sm waiting for their answer on this connection (sequence numbers are its own)."""

    def __init__(self, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, allow_unknown_opt_params=True,
                         logger_name="smpplib.client")
        self._socket: socket.socket | None
        self.writing = threading.Lock()
        self.waiting = threading.Lock()  # guards outstanding and closed
        self.outstanding: dict[int, _Part] = {}
        self.closed = False  # its reader is done: nothing new may wait on it

    def prepare(self, command: str, **fields) -> Command:
        """A request PDU with the next sequence number (smpplib's counter is not thread-safe)."""
        with self.writing:
            return smpplib.smpp.make_pdu(command, client=self, **fields)

    def send(self, pdu: Command) -> None:
        with self.writing:
            self.send_pdu(pdu)

    def request(self, command: str, **fields) -> None:
        self.send(self.prepare(command, **fields))

    def respond(self, command: str, sequence: int, status: int = ROK) -> None:
        answer = smpplib.smpp.make_pdu(command, client=self, status=status)
        answer.sequence = sequence  # smpplib's constructor keeps its own sequence number
        with self.writing:
            self.send_pdu(answer)

    def _create_socket(self) -> socket.socket:
        """No Nagle: a window of small PDUs must not wait for the SMSC's delayed acknowledgements."""
        sock = super()._create_socket()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def listen_for(self, seconds: float) -> None:
        """How long a read waits before the reader sends enquire_link (smpplib's socket is its own)."""
        if self._socket is not None:  # None once hung up; the reader then stops
            self._socket.settimeout(seconds)

    def hang_up(self) -> None:
        """Close from any thread: shutting the socket down first wakes a reader blocked in recv.
        (smpplib's disconnect would warn about closing a bound link: a lost link is one.)"""
        sock, self._socket = self._socket, None
        self.state = consts.SMPP_CLIENT_STATE_CLOSED
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


@dataclass(eq=False)
class _Part:
    """One submit_sm of a batch."""

    batch: object
    message: int                # index of its message in the batch
    fields: dict
    tries: int = 0
    sent_at: float = 0.0
    message_id: str | None = None
    failure: tuple[Outcome, str, str] | None = None


@dataclass(frozen=True)
class _Answer:
    part: _Part
    status: int | None          # None: the bind was lost before the answer
    message_id: str = ""


class _Bind:
    """One transceiver bind and the thread that keeps it open and reads it."""

    def __init__(self, adapter: SmppAdapter, number: int):
        self.adapter, self.number = adapter, number
        self.link: _Link | None = None
        self.thread = threading.Thread(target=self._keep_open, name=f"smpp-bind-{number}", daemon=True)

    @property
    def up(self) -> bool:
        return self.link is not None

    def room(self) -> bool:
        link = self.link
        return link is not None and len(link.outstanding) < self.adapter.window

    def submit(self, part: _Part) -> bool:
        """Send the part unless the bind is down or full; a send that fails is a lost answer, which
        the reader hands back when it finds the link dead."""
        link = self.link
        if link is None:
            return False
        with link.waiting:
            if link.closed or len(link.outstanding) >= self.adapter.window:
                return False
            part.tries += 1
            part.sent_at = time.monotonic()
            request = link.prepare("submit_sm", **part.fields)
            link.outstanding[request.sequence] = part  # before it goes: its answer may come at once
        try:  # not under the lock: the reader must go on reading while a full socket buffer holds us
            link.send(request)
        except Exception as exc:  # the reader finds the link dead too, reconnects and hands the part back
            logger.warning("smpp: bind %d: submit_sm failed: %s", self.number, _describe(exc))
            link.hang_up()
        return True

    def overdue(self, now: float, timeout: float) -> list[_Part]:
        link = self.link
        if link is None:
            return []
        with link.waiting:
            late = [(sequence, part) for sequence, part in link.outstanding.items() if now - part.sent_at > timeout]
            for sequence, _ in late:
                del link.outstanding[sequence]
        return [part for _, part in late]

    def reopen(self) -> None:
        link = self.link
        if link is not None:
            link.hang_up()

    def _keep_open(self) -> None:
        adapter, delay = self.adapter, RECONNECT_MIN
        while not adapter.closing.is_set():
            try:
                link = adapter.open_link()
            except Exception as exc:
                adapter.problem = _describe(exc)
                logger.warning("smpp: bind %d to %s failed: %s; again in %.1f s", self.number, adapter.where,
                               adapter.problem, delay)
                adapter.closing.wait(delay)
                delay = min(delay * 2, RECONNECT_MAX)
                continue
            delay, adapter.problem = RECONNECT_MIN, None
            self.link = link
            try:
                self._read(link)
            except Exception as exc:
                if not adapter.closing.is_set():
                    logger.warning("smpp: bind %d to %s lost: %s", self.number, adapter.where, _describe(exc))
            finally:
                self.link = None
                link.hang_up()
                with link.waiting:
                    link.closed = True
                    lost = list(link.outstanding.values())
                    link.outstanding.clear()
                for part in lost:
                    adapter.answers.put(_Answer(part, None))

    def _read(self, link: _Link) -> None:
        link.listen_for(self.adapter.enquire_interval)
        asked = False
        while not self.adapter.closing.is_set():
            try:
                pdu = link.read_pdu()
            except TimeoutError:
                if asked:
                    raise ConnectionError(f"no answer to enquire_link in {self.adapter.enquire_interval:g} s") from None
                link.request("enquire_link")
                asked = True
                continue
            asked = False
            command = pdu.command
            if command in ("submit_sm_resp", "generic_nack"):
                with link.waiting:
                    part = link.outstanding.pop(pdu.sequence, None)
                if part is not None:
                    self.adapter.answers.put(_Answer(part, pdu.status, _text(getattr(pdu, "message_id", None))))
            elif command == "deliver_sm":
                self.adapter.received(link, pdu)
            elif command == "enquire_link":
                link.respond("enquire_link_resp", pdu.sequence)
            elif command == "unbind":
                link.respond("unbind_resp", pdu.sequence)
                raise ConnectionError("the SMSC unbound")
            elif command not in ("enquire_link_resp", "unbind_resp"):
                logger.info("smpp: bind %d: %s ignored", self.number, command)


class SmppAdapter(ChannelAdapter):
    name = "smpp"
    channels = frozenset({"sms"})
    # Seconds; class attributes so tests can shorten them.
    connect_timeout: float = 5.0
    submit_timeout: float = 10.0
    enquire_interval: float = 30.0
    patience: float = 60.0  # a batch's time to get past throttling, well inside the job's 90 s

    def __init__(self, settings: Mapping[str, Any], receipts: ReceiptSink | None = None):
        super().__init__(settings)
        self.host = str(settings["SMPP_HOST"])
        self.port = int(settings["SMPP_PORT"])
        self.system_id = str(settings["SMPP_SYSTEM_ID"])
        self.password = str(settings["SMPP_PASSWORD"])
        self.system_type = str(settings["SMPP_SYSTEM_TYPE"])
        self.source = address(str(settings["SMPP_SOURCE_ADDR"]))
        self.binds_wanted = int(settings["SMPP_BINDS"])
        self.window = int(settings["SMPP_WINDOW"])
        self.rate = float(settings["SMPP_MAX_TPS"])
        if not self.host or not self.system_id or not self.source[2]:
            raise ValueError("SMS_GATEWAY=smpp needs SMPP_HOST, SMPP_SYSTEM_ID and SMPP_SOURCE_ADDR")
        if len(self.system_id) > MAX_SYSTEM_ID or len(self.password) > MAX_PASSWORD:
            raise ValueError(f"SMPP 3.4 allows a system id of {MAX_SYSTEM_ID} characters and a password of "
                             f"{MAX_PASSWORD} at most")
        if self.binds_wanted < 1 or self.window < 1 or self.rate <= 0:
            raise ValueError("SMPP_BINDS and SMPP_WINDOW must be at least 1, SMPP_MAX_TPS above 0")
        self.where = f"{self.host}:{self.port}"
        self.receipts: ReceiptSink = receipts or DatabaseReceipts(settings)
        self.answers: queue.Queue[_Answer] = queue.Queue()
        self.closing = threading.Event()
        self.problem: str | None = None  # why the last bind failed, while none is up
        self.binds: list[_Bind] = []
        self._started = threading.Lock()
        self._one_batch = threading.Lock()
        self._references = itertools.count(random.randrange(256))  # concatenation references, from anywhere
        self._pause, self._paused_until = MIN_PAUSE, 0.0
        self._receipt_queue: queue.Queue[tuple[Receipt, _Link, int] | None] = queue.Queue()
        self._receipt_writer: threading.Thread | None = None

    # --- the interface ---------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch=MAX_BATCH, rate_per_second=self.rate,
                            rate_key=f"smpp:{self.where}:{self.system_id}", burst=max(1, math.ceil(self.rate)))

    def cost(self, message: OutboundMessage) -> int:
        """SMPP_MAX_TPS counts submit_sm: one per part."""
        total = 0
        for text in message.texts:
            try:
                total += len(ucs2_parts(text))
            except ValueError:
                total += 1  # refused before it is sent; one token keeps it from looking free
        return total

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        if not messages:
            return []
        with self._one_batch:
            self._start()
            return _Batch(self, messages).run()

    def check(self) -> str:
        started = time.monotonic()
        try:
            link = self.open_link()
        except Exception as exc:
            raise GatewayUnavailable(f"smpp: cannot bind to {self.where} as {self.system_id}: {_describe(exc)}") from exc
        try:
            link.request("enquire_link")
            # Receipts waiting for this account may come first: left unanswered, the SMSC sends them again.
            while link.read_pdu().command != "enquire_link_resp":
                pass
            link.request("unbind")
        except (OSError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError) as exc:
            raise GatewayUnavailable(f"smpp: {self.where} bound, then failed: {_describe(exc)}") from exc
        finally:
            link.hang_up()
        return (f"smpp: bound to {self.where} as {self.system_id} (transceiver), enquire_link answered in "
                f"{(time.monotonic() - started) * 1000:.0f} ms; sending from {self.source[2]}")

    def close(self) -> None:
        """Unbind and stop the threads (tests, and a worker that stops); unanswered receipts come again."""
        self.closing.set()
        for bind in self.binds:
            link = bind.link
            if link is not None:
                try:
                    link.request("unbind")  # its reader ends at the unbind_resp
                except Exception:  # already gone: nothing to say goodbye to
                    pass
        for bind in self.binds:
            bind.thread.join(timeout=1)
            bind.reopen()
            bind.thread.join(timeout=1)
        self._receipt_queue.put(None)
        if self._receipt_writer is not None:
            self._receipt_writer.join(timeout=2)
        self.receipts.close()

    # --- binds ------------------------------------------------------------------------

    def open_link(self) -> _Link:
        link = _Link(self.host, self.port, self.connect_timeout)
        try:
            link.connect()
            link.bind_transceiver(system_id=self.system_id, password=self.password, system_type=self.system_type)
        except Exception:
            link.hang_up()
            raise
        return link

    def _start(self) -> None:
        with self._started:
            if self.binds or self.closing.is_set():
                return
            self.binds = [_Bind(self, number) for number in range(1, self.binds_wanted + 1)]
            for bind in self.binds:
                bind.thread.start()
            self._receipt_writer = threading.Thread(target=self._write_receipts, name="smpp-receipts", daemon=True)
            self._receipt_writer.start()

    def reference(self) -> int:
        return next(self._references) & 0xFF

    # --- pacing -----------------------------------------------------------------------

    def paused_for(self, now: float) -> float:
        return max(0.0, self._paused_until - now)

    def slow_down(self, now: float) -> float:
        """A throttle or full queue: every bind waits. Answers to parts sent before the pause began
        do not lengthen it; one after it doubles the next."""
        if now >= self._paused_until:
            self._paused_until = now + self._pause
            self._pause = min(self._pause * 2, MAX_PAUSE)
        return self._paused_until - now

    def speed_up(self) -> None:
        self._pause = max(MIN_PAUSE, self._pause / 2)

    # --- receipts ---------------------------------------------------------------------

    def received(self, link: _Link, pdu: Command) -> None:
        """A deliver_sm, on a bind's reading thread."""
        try:
            receipt = parse_receipt(pdu)
        except Exception:  # a receipt we cannot read is answered, or the SMSC sends it for ever
            logger.exception("smpp: unreadable deliver_sm")
            receipt = None
        if receipt is None or receipt.status is None:
            if receipt is None:
                logger.info("smpp: deliver_sm that is not a receipt answered and ignored (esm_class 0x%02X)",
                            pdu.esm_class or 0)
            link.respond("deliver_sm_resp", pdu.sequence)
            return
        self._receipt_queue.put((receipt, link, pdu.sequence))

    def _write_receipts(self) -> None:
        while True:
            first = self._receipt_queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < RECEIPT_BATCH:
                try:
                    item = self._receipt_queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._receipt_queue.put(None)
                    break
                batch.append(item)
            status = ROK
            try:
                self.receipts.apply([receipt for receipt, _, _ in batch])
            except Exception:
                logger.exception("smpp: %d receipts not applied; the SMSC will deliver them again", len(batch))
                status = consts.SMPP_ESME_RX_T_APPN
            for _, link, sequence in batch:
                try:
                    link.respond("deliver_sm_resp", sequence, status)
                except Exception:  # its bind is gone: unanswered, the SMSC delivers it again
                    pass


class _Batch:
    """One send_batch: every part of every message submitted, submitted again or given up."""

    def __init__(self, adapter: SmppAdapter, messages: Sequence[OutboundMessage]):
        self.adapter, self.messages = adapter, messages
        self.parts: dict[int, list[_Part]] = {}
        self.refused: dict[int, SendResult] = {}
        for index, message in enumerate(messages):
            try:
                self.parts[index] = self._parts(index, message)
            except ValueError as exc:
                self.refused[index] = SendResult(message.delivery_id, Outcome.PERMANENT, code="too-long", text=str(exc))
        self.unsent: deque[_Part] = deque(part for parts in self.parts.values() for part in parts)
        self.waiting = len(self.unsent)  # parts not settled yet
        self.later: list[tuple[float, _Part]] = []  # throttled parts and when they may go again
        self.deadline = time.monotonic() + adapter.patience
        self.last_refusal = "ESME_RTHROTTLED", "throttled"

    def _parts(self, index: int, message: OutboundMessage) -> list[_Part]:
        adapter = self.adapter
        ton, npi, digits = address(message.address)
        common = {"source_addr_ton": adapter.source[0], "source_addr_npi": adapter.source[1],
                  "source_addr": adapter.source[2], "dest_addr_ton": ton, "dest_addr_npi": npi,
                  "destination_addr": digits, "data_coding": UCS2}
        parts = []
        for text_index, text in enumerate(message.texts):
            encoded = ucs2_parts(text)
            esm_class = UDH_INDICATOR if len(encoded) > 1 else 0
            for number, short_message in enumerate(concatenated(encoded, adapter.reference())):
                receipt = int(text_index == 0 and number == 0)  # the part whose id is the gateway id
                parts.append(_Part(self, index, {**common, "esm_class": esm_class, "short_message": short_message,
                                                 "registered_delivery": receipt}))
        return parts

    def run(self) -> list[SendResult]:
        adapter = self.adapter
        bind_seen = next_overdue_check = time.monotonic()
        while self.waiting:
            now = time.monotonic()
            if self.later and (now >= self.later[0][0] or now > self.deadline):
                self.unsent.extend(part for at, part in self.later if at <= now or now > self.deadline)
                self.later = [(at, part) for at, part in self.later if at > now and now <= self.deadline]
            if any(bind.up for bind in adapter.binds):
                bind_seen = now
            elif now - bind_seen > adapter.connect_timeout * 2 or now > self.deadline:
                self._give_up(Outcome.TRANSIENT, "connection",
                              f"no bind to {adapter.where} ({adapter.problem or 'connecting'}), not sent")
            if now > self.deadline:
                code, words = self.last_refusal
                self._give_up(Outcome.TRANSIENT, code, f"not sent in {adapter.patience:g} s: {words}")
            if not adapter.paused_for(now):
                self._fill()
            self._take_answers(now)
            if now >= next_overdue_check:
                self._expire_overdue()
                next_overdue_check = now + 0.1
        return [self._result(index, message) for index, message in enumerate(self.messages)]

    def _give_up(self, outcome: Outcome, code: str, words: str) -> None:
        """Settle every part not sent (nor waiting to go again) with this failure."""
        for part in self.unsent:
            part.failure = (outcome, code, words)
        self.waiting -= len(self.unsent)
        self.unsent.clear()

    def _fill(self) -> None:
        """Submit parts while a bind has room, spreading them over the binds."""
        unsent = self.unsent
        while unsent:
            progressed = False
            for bind in self.adapter.binds:
                if unsent and bind.room() and bind.submit(unsent[0]):
                    unsent.popleft()
                    progressed = True
            if not progressed:
                return

    def _expire_overdue(self) -> None:
        timeout = self.adapter.submit_timeout
        for bind in self.adapter.binds:
            overdue = [part for part in bind.overdue(time.monotonic(), timeout) if part.batch is self]
            for part in overdue:
                part.failure = (Outcome.TRANSIENT, "timeout", f"no submit_sm_resp in {timeout:g} s, may have been sent")
            self.waiting -= len(overdue)
            if overdue:
                bind.reopen()

    def _take_answers(self, now: float) -> None:
        """Wait briefly for an answer (not at all while there is something to send and room for it),
        then take every answer there is."""
        adapter = self.adapter
        busy = self.unsent and not adapter.paused_for(now) and any(bind.room() for bind in adapter.binds)
        try:
            answer = adapter.answers.get_nowait() if busy else adapter.answers.get(timeout=0.05)
        except queue.Empty:
            return
        while True:
            part = answer.part
            if part.batch is self and part.failure is None and part.message_id is None:
                self.waiting -= self._settle(answer)
            try:
                answer = adapter.answers.get_nowait()
            except queue.Empty:
                return

    def _settle(self, answer: _Answer) -> int:
        """1 when the answer settles its part, 0 when the part goes again."""
        adapter, part, status = self.adapter, answer.part, answer.status
        now = time.monotonic()
        if status is None:
            if part.tries < MAX_TRIES and now <= self.deadline:
                self.unsent.append(part)
                return 0
            part.failure = (Outcome.TRANSIENT, "connection",
                            f"bind lost before the answer, {part.tries} times; may have been sent")
            return 1
        if status == ROK:
            part.message_id = answer.message_id
            adapter.speed_up()
            return 1
        name, words = status_name(status), consts.DESCRIPTIONS.get(status, "unknown status")
        if status in SLOW_DOWN:
            self.last_refusal = name, words
            self.later.append((now + adapter.slow_down(now), part))
            self.later.sort(key=lambda item: item[0])
            part.tries -= 1  # refused, so never sent: not a lost answer
            return 0
        part.failure = (Outcome.TRANSIENT if status in TRANSIENT_STATUSES else Outcome.PERMANENT, name, words)
        return 1

    def _result(self, index: int, message: OutboundMessage) -> SendResult:
        if index in self.refused:
            return self.refused[index]
        parts = self.parts[index]
        ids = [part.message_id for part in parts if part.message_id]
        primary = parts[0].message_id
        failures = [part.failure for part in parts if part.failure]
        if not failures:
            return SendResult(message.delivery_id, Outcome.ACCEPTED, gateway_id=primary,
                              text=" ".join(ids) if len(ids) > 1 else None)
        outcome, code, words = next((f for f in failures if f[0] == Outcome.PERMANENT), failures[0])
        if ids:
            words = f"{words} (after {len(ids)} of {len(parts)} parts accepted: {' '.join(ids)})"
        if outcome == Outcome.TRANSIENT:
            logger.warning("smpp: delivery %s: %s %s", message.delivery_id, code, words,
                           extra={"alert_id": message.content.alert_id, "delivery_id": message.delivery_id})
        throttled = code in SLOW_DOWN_NAMES
        return SendResult(message.delivery_id, outcome, gateway_id=primary, code=code, text=words,
                          retry_after=self.adapter.paused_for(time.monotonic()) or MIN_PAUSE if throttled else None)


SLOW_DOWN_NAMES = frozenset(status_name(status) for status in SLOW_DOWN)


def _describe(exc: BaseException) -> str:
    """smpplib's errors carry the SMPP status as their second argument: name it."""
    if isinstance(exc, smpplib.exceptions.PDUError) and len(exc.args) > 1 and isinstance(exc.args[1], int):
        return f"{status_name(exc.args[1])}: {consts.DESCRIPTIONS.get(exc.args[1], 'unknown status')}"
    if isinstance(exc, smpplib.exceptions.ConnectionError) and not str(exc):
        return "connection closed"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
