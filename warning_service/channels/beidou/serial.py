"""BeiDou short messages through a user terminal on a serial line (BEIDOU_GATEWAY=serial).

The terminal speaks NMEA-style sentences, `$<body>*hh` and CR LF, hh being the XOR of the
body's bytes in two hex digits (`$CCICA,0,00*7B`). BEIDOU_PROTOCOL picks the dialect:

"2.1", the RDSS protocol 2.1 of BDS-2 terminals (most BDS-3 terminals speak it too):
    $CCICA,0,00  ->  $BDICI,<card>,<serial>,<broadcast address>,<user type>,<service interval s>,
                     <communication level>,<E|N encryption>,<subordinate users>
    $CCTXA,<card>,1,<0 Chinese|1 code|2 mixed>,<content>
                 ->  $BDFKI,TXA,<Y|N done>,<Y|N interval passed>,<suppression>,<wait mmss>
    Chinese content is the GB2312 bytes themselves (the sentence is a byte stream), code
    content the digits, mixed content "A4" and the bytes in hex. The suppression field is
    0 when the card may transmit, 1-3 suppressed / low power / radio silence, and BDS-3
    terminals put their own reason codes (below) there.
"bds3", the BDS-3 short message sentences:
    $CCICR,0,00  ->  $BDICP,<card>,<broadcast address>,... (field 14 service interval, 15 level)
    $CCTCQ,<card>,2 (regional point Lf1),1 (no inbound confirmation),<1 Chinese|2 code|3 mixed>,
           <hex data>,0 (send once)
                 ->  $BDFKI,<hhmmss>,TCQ,<Y|N>,<reason>,<wait s>
    reasons: 1 interval not passed, 2 transmission suppressed, 3 radio silence, 4 power not
    locked, 5 no IC card, 6 no permission. The data is the hex of the bytes, "A4" first in
    mixed mode.

Sources (public terminal code): roc85/TianYing_N3 BdSdk_v2_1.java (the $BDICI
fields, $BDFKI fields and suppression codes, $CCTXA with "A4"+GB2312 hex in mixed mode, the
checksum taken over the GB2312 bytes); yufei2207/learn SecTest/.../bd2/pt_bd2_rdss.c (TXA
encoder: Chinese bytes raw, code passed through, mixed "A4"+hex; FKI wait written %02d%02d,
minutes and seconds); LXTTTTTT/BDSDK mod_parse ProtocolParser.java and ProtocolPackager.java
($CCICR/$BDICP fields, $CCTCQ,<card>,2,1,<coding>,<data>,0 and its codings, the BDS-3 $BDFKI
and its reason codes, including a BDS-3 terminal's `$BDFKI,TXA,N,Y,4,0000`).

Costs and modes are those of rendering.budgets: a text goes as the budget measured it, and a
text over the card's capacity (BEIDOU_CAPACITY_BITS: no card reports its capacity in bits)
goes as numbered parts "1/3 " cut by fit.split_parts, up to BEIDOU_MAX_PARTS. Mixed-mode bytes
are UTF-8 when there is Tibetan, else GB18030: receivers decode UTF-8 first.

Pacing: the card refuses a send sooner than its service interval, so the adapter never writes
two send sentences closer than that (plus a margin) and honours the wait of a refusal; the
fan-out's token bucket (rate_key beidou:<card>) paces the card across batches. Only one
process may own the serial port.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import reduce
from operator import xor
from typing import Any, ClassVar

import serial

from ...rendering import tibetan
from ...rendering.budgets import BeidouBudget, Measure, mixed_codec
from ...rendering.fit import split_parts
from ..base import Capabilities, ChannelAdapter, GatewayUnavailable, OutboundMessage, Outcome, SendResult
from . import budget

MAX_BATCH = 10
# Reads wait at most this long at a time, until the reply's deadline.
READ_SLICE_SECONDS = 0.1
# A card counts its interval from its own transmission, which follows our write: a margin
# keeps jitter on the line from costing a refusal.
PACING_MARGIN_SECONDS = 0.1
NO_PERMISSION = 6
MIXED_PREFIX = b"A4"
FULL_WIDTH = str.maketrans("0123456789/ ", "０１２３４５６７８９／　")
COMMON_REASONS = {3: "radio silence", 4: "power not locked", 5: "no IC card", NO_PERMISSION: "no permission"}


class TerminalError(Exception):
    """The terminal could not be used for this sentence."""

    code: str


class LineDown(TerminalError):
    """No reply in time, or the line failed: the port is reopened (and the card read) next time."""

    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code = code


class GarbledReply(TerminalError):
    """A reply whose checksum does not match (or whose fields make no sense)."""

    code = "garbled"

    def __init__(self, kind: str, line: bytes):
        super().__init__(f"garbled reply: {line!r}")
        self.kind = kind


class TooLong(ValueError):
    """A text needs more parts than BEIDOU_MAX_PARTS."""


def checksum(body: bytes) -> str:
    """XOR of the bytes between `$` and `*`, as two hex digits."""
    return f"{reduce(xor, body, 0):02X}"


def sentence(body: bytes) -> bytes:
    return b"$" + body + b"*" + checksum(body).encode() + b"\r\n"


def parse(line: bytes) -> list[str]:
    """The fields of a sentence line, fields[0] its talker and type ("BDFKI").

    Fields are latin-1, so `field.encode("latin-1")` gives back the bytes (GB2312 content).
    ValueError when the line is no sentence, GarbledReply when its checksum is wrong.
    """
    line = line.strip()
    star = line.rfind(b"*")
    if not line.startswith(b"$") or star < 0:
        raise ValueError(f"not a sentence: {line!r}")
    body = line[1:star]
    fields = body.decode("latin-1").split(",")
    if line[star + 1:].upper() != checksum(body).encode():
        raise GarbledReply(fields[0], line)
    return fields


@dataclass(frozen=True)
class CardInfo:
    address: str
    interval: float      # seconds: the card's authorised minimum interval between sends
    level: int | None    # communication level, as the card reports it
    group: str | None    # broadcast (group) address, None when the card has none

    def describe(self, capacity_bits: int) -> str:
        level = f", level {self.level}" if self.level is not None else ""
        group = f", group {self.group}" if self.group else ""
        return f"card {self.address}, interval {self.interval:g} s, {capacity_bits} bits{level}{group}"


@dataclass(frozen=True)
class Feedback:
    """The terminal's $BDFKI answer to one send sentence."""

    ok: bool
    too_soon: bool   # refused because the card's interval has not passed
    reason: int
    wait: float      # seconds the card asks to wait
    sentence: str

    @property
    def code(self) -> str:
        return "frequency" if self.too_soon else str(self.reason)


def _group(value: str) -> str | None:
    return value if value.strip("0") else None


def _level(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _mmss(value: str) -> float:
    """A 2.1 wait: four digits are minutes and seconds (pt_bd2_rdss.c), anything else seconds."""
    if len(value) == 4 and value.isdigit():
        return int(value[:2]) * 60 + int(value[2:])
    return float(value or 0)


class Dialect(ABC):
    """One protocol's sentences: card info, the send sentence and its feedback."""

    name: ClassVar[str]
    card_query: ClassVar[bytes]
    card_reply: ClassVar[str]
    max_address_digits: ClassVar[int]
    reasons: ClassVar[Mapping[int, str]]

    @abstractmethod
    def card_info(self, fields: list[str]) -> CardInfo: ...

    @abstractmethod
    def send(self, destination: str, mode: str, data: bytes) -> bytes: ...

    @abstractmethod
    def is_feedback(self, fields: list[str]) -> bool: ...

    @abstractmethod
    def feedback(self, fields: list[str], line: str) -> Feedback: ...

    def describe(self, feedback: Feedback) -> str:
        if feedback.too_soon:
            return f"the card's interval has not passed (wait {feedback.wait:g} s)"
        return self.reasons.get(feedback.reason, f"refused (reason {feedback.reason})")


class Rdss21(Dialect):
    name = "2.1"
    card_query = b"CCICA,0,00"
    card_reply = "BDICI"
    max_address_digits = 7
    reasons = {1: "suppressed by the system", 2: "suppressed: low power", **COMMON_REASONS}
    MODES = {"chinese": b"0", "code": b"1", "mixed": b"2"}

    def card_info(self, fields: list[str]) -> CardInfo:
        return CardInfo(fields[1], float(fields[5]), _level(fields[6]), _group(fields[3]))

    def send(self, destination: str, mode: str, data: bytes) -> bytes:
        content = MIXED_PREFIX + data.hex().upper().encode() if mode == "mixed" else data
        return b"CCTXA," + destination.encode() + b",1," + self.MODES[mode] + b"," + content

    def is_feedback(self, fields: list[str]) -> bool:
        return fields[0] == "BDFKI" and fields[1:2] == ["TXA"]

    def feedback(self, fields: list[str], line: str) -> Feedback:
        done, interval_passed, reason = fields[2] == "Y", fields[3] == "Y", int(fields[4] or 0)
        return Feedback(done and interval_passed and reason == 0, not interval_passed, reason, _mmss(fields[5]), line)


class Bds3(Dialect):
    name = "bds3"
    card_query = b"CCICR,0,00"
    card_reply = "BDICP"
    max_address_digits = 8  # BDS-3 cards such as 15240507
    reasons = {2: "transmission suppressed", **COMMON_REASONS}  # 1, too soon, is Feedback.too_soon
    CODINGS = {"chinese": "1", "code": "2", "mixed": "3"}
    FREQUENCY_POINT, NO_CONFIRMATION, ONCE = "2", "1", "0"

    def card_info(self, fields: list[str]) -> CardInfo:
        return CardInfo(fields[1], float(fields[14]), _level(fields[15]), _group(fields[2]))

    def send(self, destination: str, mode: str, data: bytes) -> bytes:
        hex_data = (MIXED_PREFIX.decode() if mode == "mixed" else "") + data.hex().upper()
        return (f"CCTCQ,{destination},{self.FREQUENCY_POINT},{self.NO_CONFIRMATION},{self.CODINGS[mode]},"
                f"{hex_data},{self.ONCE}").encode()

    def is_feedback(self, fields: list[str]) -> bool:
        return fields[0] == "BDFKI" and fields[2:3] == ["TCQ"]

    def feedback(self, fields: list[str], line: str) -> Feedback:
        reason = int(fields[4] or 0)
        return Feedback(fields[3] == "Y", reason == 1, reason, float(fields[5] or 0), line)


DIALECTS: dict[str, Dialect] = {dialect.name: dialect for dialect in (Rdss21(), Bds3())}


@dataclass(frozen=True)
class _AfterHeader:
    """A part's budget with room for the widest part number the text may need in front."""

    budget: BeidouBudget
    header: str

    @property
    def name(self) -> str:
        return f"{self.budget.name} after {self.header!r}"

    def measure(self, text: str) -> Measure:
        return self.budget.measure(self.header + text)


def _header(index: int, total: int, chinese: bool) -> str:
    """ "1/3 ", full-width in a Chinese-mode text so that it stays in Chinese mode."""
    header = f"{index}/{total} "
    return header.translate(FULL_WIDTH) if chinese else header


def numbered_parts(text: str, budget: BeidouBudget) -> list[str]:
    """The text as the contents of one message, or of numbered parts when one cannot carry it."""
    text = tibetan.normalise(text)
    single = replace(budget, max_parts=1)
    whole = single.measure(text)
    if whole.fits:
        return [text]
    chinese = whole.encoding == "chinese"
    widest = _header(budget.max_parts, budget.max_parts, chinese)
    try:
        parts = split_parts(text, _AfterHeader(single, widest))
    except ValueError as exc:
        raise TooLong(str(exc)) from exc
    if len(parts) > budget.max_parts:
        raise TooLong(f"{len(parts)} messages of {budget.capacity_bits} bits needed, BEIDOU_MAX_PARTS is {budget.max_parts}")
    return [_header(i, len(parts), chinese) + part for i, part in enumerate(parts, 1)]


def payload(content: str, mode: str) -> bytes:
    """The content's bytes in the budget's mode: GB2312, digits, or mixed_codec's bytes."""
    codec = {"chinese": "gb2312", "code": "ascii"}.get(mode) or mixed_codec(content)
    return content.encode(codec)


class BeidouAdapter(ChannelAdapter):
    name = "serial"
    channels = frozenset({"beidou"})
    # Seconds to wait for the terminal's answer (a TD3050 integration guide waits 15 s for $BDFKI).
    reply_timeout: float = 15.0

    def __init__(self, settings: Mapping[str, Any]):
        super().__init__(settings)
        protocol = str(settings["BEIDOU_PROTOCOL"])
        if protocol not in DIALECTS:
            raise ValueError(f"BEIDOU_PROTOCOL={protocol!r}: choose one of {', '.join(DIALECTS)}")
        self.dialect = DIALECTS[protocol]
        self.url = str(settings["BEIDOU_SERIAL_URL"])
        self.baudrate = int(settings["BEIDOU_BAUDRATE"])
        self.budget = budget(settings)  # capacity, mode and parts from the settings
        self._port: serial.SerialBase | None = None
        self._pending = b""
        self._card: CardInfo | None = None
        self._next_send = 0.0  # time.monotonic() before which no send sentence may go

    # --- the interface -----------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """Paced per card; a terminal that cannot be read gets no rate (its batch fails fast anyway)."""
        try:
            card = self.card_info()
        except TerminalError:
            self.close()
            return Capabilities(MAX_BATCH, None, f"beidou:{self.url}")
        rate = 1 / card.interval if card.interval > 0 else None
        return Capabilities(MAX_BATCH, rate, f"beidou:{card.address}", burst=1)

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        down: LineDown | None = None
        for message in messages:
            if down is not None:
                results.append(SendResult(message.delivery_id, Outcome.TRANSIENT, code=down.code, text=f"not tried: {down}"))
                continue
            try:
                results.append(self._send_message(message))
            except LineDown as exc:
                self.close()
                down = exc
                results.append(SendResult(message.delivery_id, Outcome.TRANSIENT, code=exc.code, text=str(exc)))
            except GarbledReply as exc:
                results.append(SendResult(message.delivery_id, Outcome.TRANSIENT, code=exc.code, text=str(exc)))
        return results

    def check(self) -> str:
        self._card = None
        try:
            card = self.card_info()
        except TerminalError as exc:
            self.close()
            raise GatewayUnavailable(f"BeiDou terminal on {self.url}: {exc}") from exc
        return f"{card.describe(self.budget.capacity_bits)}, protocol {self.dialect.name}"

    def card_info(self) -> CardInfo:
        """The card in the terminal, read once per opening of the port."""
        if self._card is None:
            self._write(self.dialect.card_query)
            fields = self._reply(self.dialect.card_reply)
            try:
                self._card = self.dialect.card_info(fields)
            except (IndexError, ValueError) as exc:
                raise GarbledReply(self.dialect.card_reply, ",".join(fields).encode("latin-1")) from exc
        return self._card

    def close(self) -> None:
        """Release the port; the next use reopens it and reads the card again."""
        if self._port is not None:
            try:
                self._port.close()
            except OSError:
                pass  # the line is already gone
        self._port, self._pending, self._card = None, b"", None

    # --- one message ---------------------------------------------------------------

    def _send_message(self, message: OutboundMessage) -> SendResult:
        card = self.card_info()
        destination = self._destination(message.address)
        if destination is None:
            return SendResult(message.delivery_id, Outcome.PERMANENT, code="invalid-address",
                              text=f"{message.address!r} is not a BeiDou card address")
        try:
            contents = [content for text in message.texts for content in numbered_parts(text, self.budget) if content]
        except TooLong as exc:
            return SendResult(message.delivery_id, Outcome.PERMANENT, code="too-long", text=str(exc))
        if not contents:
            return SendResult(message.delivery_id, Outcome.PERMANENT, code="empty", text="no text to send")
        feedbacks: list[Feedback] = []
        for content in contents:
            feedback = self._send_sentence(destination, content, card)
            feedbacks.append(feedback)
            if not feedback.ok:
                return self._refused(message, feedback, len(feedbacks), len(contents), card)
        group = "to the card's group; " if destination == card.group else ""
        return SendResult(message.delivery_id, Outcome.ACCEPTED, gateway_id=f"{card.address}:{destination}:{message.delivery_id}",
                          text=group + "; ".join(feedback.sentence for feedback in feedbacks))

    def _destination(self, address: str) -> str | None:
        """A card address of digits, padded to 7 as the terminals do; None when it is not one."""
        address = address.strip()
        if not address.isascii() or not address.isdigit() or len(address) > self.dialect.max_address_digits:
            return None
        return address.zfill(7)

    def _send_sentence(self, destination: str, content: str, card: CardInfo) -> Feedback:
        mode = self.budget.measure(content).encoding
        body = self.dialect.send(destination, mode, payload(content, mode))
        delay = self._next_send - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._write(body)
        self._next_send = time.monotonic() + card.interval + PACING_MARGIN_SECONDS
        fields = self._reply("BDFKI", self.dialect.is_feedback)
        try:
            feedback = self.dialect.feedback(fields, "$" + ",".join(fields))
        except (IndexError, ValueError) as exc:
            raise GarbledReply("BDFKI", ",".join(fields).encode("latin-1")) from exc
        if not feedback.ok:
            self._next_send = max(self._next_send, time.monotonic() + feedback.wait)
        return feedback

    def _refused(self, message: OutboundMessage, feedback: Feedback, sent: int, total: int, card: CardInfo) -> SendResult:
        text = f"{self.dialect.describe(feedback)} (sentence {sent} of {total}): {feedback.sentence}"
        if feedback.reason == NO_PERMISSION and not feedback.too_soon:
            return SendResult(message.delivery_id, Outcome.PERMANENT, code=feedback.code, text=text)
        return SendResult(message.delivery_id, Outcome.TRANSIENT, code=feedback.code, text=text,
                          retry_after=feedback.wait or card.interval)

    # --- the line --------------------------------------------------------------------

    def _open(self) -> serial.SerialBase:
        if self._port is None:
            try:
                self._port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=READ_SLICE_SECONDS,
                                                   write_timeout=self.reply_timeout)
            except (OSError, ValueError) as exc:
                raise LineDown("line-down", f"cannot open {self.url}: {exc}") from exc
        return self._port

    def _write(self, body: bytes) -> None:
        """Send one sentence; what the terminal said before it is no answer to it."""
        port = self._open()
        self._pending = b""
        try:
            port.reset_input_buffer()
            port.write(sentence(body))
        except OSError as exc:
            raise LineDown("line-down", f"{self.url}: {exc}") from exc

    def _reply(self, kind: str, matches: Callable[[list[str]], bool] = lambda fields: True) -> list[str]:
        """The fields of the next sentence of this kind that matches, skipping the terminal's other output."""
        deadline = time.monotonic() + self.reply_timeout
        while True:
            line = self._read_line(deadline)
            try:
                fields = parse(line)
            except GarbledReply as exc:
                if exc.kind == kind:
                    raise
                continue
            except ValueError:
                continue
            if fields[0] == kind and matches(fields):
                return fields

    def _read_line(self, deadline: float) -> bytes:
        port = self._open()
        while b"\n" not in self._pending:
            if time.monotonic() >= deadline:
                raise LineDown("timeout", f"no answer from the terminal on {self.url} in {self.reply_timeout:g} s")
            try:
                self._pending += port.read_until(b"\n")
            except OSError as exc:
                raise LineDown("line-down", f"{self.url}: {exc}") from exc
        line, _, self._pending = self._pending.partition(b"\n")
        return line
