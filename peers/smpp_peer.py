"""A local SMS centre speaking SMPP 3.4 over TCP on 127.0.0.1, for the demo, the tests and bench/smpp.py.

    .venv/bin/python -m peers.smpp_peer --port 2775 --rate 2000 --latency 0.02    # until Ctrl-C or SIGTERM

It takes bind_transmitter, bind_receiver and bind_transceiver with a system id and password
check (ESME_RINVSYSID, ESME_RINVPASWD), answers submit_sm with submit_sm_resp and a message id
after `latency` seconds, enquire_link, unbind, and anything else with generic_nack. It has a rate
(`rate` submit_sm a second through a token bucket of `burst`; above it ESME_RTHROTTLED), a window
(`window` submit_sm waiting for their answer per connection; past it ESME_RTHROTTLED, counted in
`stats.window_exceeded`), switches that make every submit_sm throttled (`throttle`) or refused
with ESME_RMSGQFUL (`queue_full`), `drop_connections()`, and the contract's failure modes
(`fail`): "slow" answers after `slow_seconds`, "5xx" with ESME_RSYSERR, "429" with
ESME_RTHROTTLED, "timeout" never answers, "drop" closes the connection on a submit_sm.
Destinations ending in `invalid_suffix` are refused with ESME_RINVDSTADR.

A submit_sm with registered_delivery asks for a receipt: `receipt_delay` seconds after the
answer (before it, with `receipts_first`), a deliver_sm with esm_class 0x04, the text form
(`id:… stat:DELIVRD err:000 …`) and the receipted_message_id and message_state TLVs, the state
DELIVRD or the one `outcomes` gives the destination. Receipts go on the connection the message
came on, or any other bound one of the same system id, at most `receipt_window` unanswered
per connection; one answered with an error, or unanswered when its connection closes or after
`receipt_timeout`, goes again `receipt_retry` seconds later, as an SMSC delivers it again.

What arrived is kept (unless `record` is off, for the benchmark): `received()` the texts put
together from their concatenated parts (UDH), `submits()` every submit_sm as it came. The
codec is this module's own (struct), not the library the adapter uses, so a test reads what
went over the wire independently of it.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import struct
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from peers.received import FAILURE_MODES, Received

# Command ids (SMPP 3.4 §5.1.2.1); a response is the request's id with bit 31 set.
BIND_RECEIVER, BIND_TRANSMITTER, SUBMIT_SM, DELIVER_SM, UNBIND = 0x01, 0x02, 0x04, 0x05, 0x06
BIND_TRANSCEIVER, ENQUIRE_LINK, GENERIC_NACK, RESPONSE = 0x09, 0x15, 0x80000000, 0x80000000
BINDS = {BIND_RECEIVER: "receiver", BIND_TRANSMITTER: "transmitter", BIND_TRANSCEIVER: "transceiver"}
# Command statuses (§5.1.3).
ROK, RINVCMDID, RINVBNDSTS, RSYSERR, RINVDSTADR = 0x00, 0x03, 0x04, 0x08, 0x0B
RALYBND, RINVPASWD, RINVSYSID, RMSGQFUL, RTHROTTLED = 0x05, 0x0E, 0x0F, 0x14, 0x58
# Optional parameters (§5.3.2).
RECEIPTED_MESSAGE_ID, MESSAGE_STATE = 0x001E, 0x0427
MESSAGE_STATES = {"ENROUTE": 1, "DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "ACCEPTD": 6, "UNKNOWN": 7,
                  "REJECTD": 8}
HEADER = struct.Struct(">IIII")
MAINTENANCE_SECONDS = 0.1


@dataclass(frozen=True)
class Submitted:
    """One submit_sm as it came, its short message split into UDH and text."""

    source: str
    source_ton: int
    source_npi: int
    address: str
    dest_ton: int
    esm_class: int
    data_coding: int
    registered_delivery: int
    udh: bytes
    text: str
    message_id: str | None  # None when it was refused


@dataclass
class Stats:
    binds: int = 0
    bind_refusals: int = 0
    submits: int = 0
    accepted: int = 0
    throttled: int = 0
    window_exceeded: int = 0  # submit_sm past the peer's window
    peak_outstanding: int = 0  # most submit_sm waiting for an answer on one connection
    enquire_links: int = 0
    receipts_sent: int = 0  # deliver_sm written, deliveries again included
    receipts_answered: int = 0  # answered ESME_ROK
    receipts_refused: int = 0  # answered with an error status


@dataclass
class _Receipt:
    message_id: str
    source: tuple[int, int, str]       # the recipient: TON, NPI, address
    destination: tuple[int, int, str]  # the message's sender
    state: str
    system_id: str
    origin: _Connection | None
    submitted: float
    sent_at: float = 0.0


@dataclass(eq=False)
class _Connection:
    writer: asyncio.StreamWriter
    system_id: str | None = None
    bind: str | None = None
    outstanding: int = 0  # submit_sm not answered yet
    sequence: int = 0  # of the last deliver_sm
    deliveries: dict[int, _Receipt] = field(default_factory=dict)  # deliver_sm not answered yet
    open: bool = True

    @property
    def receives(self) -> bool:
        return self.open and self.bind in ("receiver", "transceiver")


def c_string(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\x00", at)
    return data[at:end].decode("latin-1"), end + 1


def c_octets(text: str) -> bytes:
    return text.encode("latin-1") + b"\x00"


def pdu(command: int, status: int, sequence: int, body: bytes = b"") -> bytes:
    return HEADER.pack(16 + len(body), command, status, sequence) + body


def parse_submit(body: bytes) -> dict:
    """The mandatory fields of a submit_sm (or deliver_sm) body, and its TLVs by tag."""
    fields: dict = {}
    fields["service_type"], at = c_string(body, 0)
    fields["source_ton"], fields["source_npi"] = body[at], body[at + 1]
    fields["source"], at = c_string(body, at + 2)
    fields["dest_ton"], fields["dest_npi"] = body[at], body[at + 1]
    fields["destination"], at = c_string(body, at + 2)
    fields["esm_class"], fields["protocol_id"], fields["priority_flag"] = body[at], body[at + 1], body[at + 2]
    _, at = c_string(body, at + 3)  # schedule_delivery_time
    _, at = c_string(body, at)  # validity_period
    fields["registered_delivery"], _, fields["data_coding"], _, length = body[at:at + 5]
    fields["short_message"] = body[at + 5:at + 5 + length]
    at += 5 + length
    tlvs = {}
    while at + 4 <= len(body):
        tag, size = struct.unpack_from(">HH", body, at)
        tlvs[tag] = body[at + 4:at + 4 + size]
        at += 4 + size
    fields["tlvs"] = tlvs
    return fields


def split_udh(esm_class: int, short_message: bytes) -> tuple[bytes, bytes]:
    if esm_class & 0x40 and short_message:
        size = short_message[0] + 1
        return short_message[:size], short_message[size:]
    return b"", short_message


def concatenation(udh: bytes) -> tuple[int, int, int] | None:
    """(reference, total, sequence number) of a concatenation IE (8- or 16-bit reference), if any."""
    at = 1
    while at + 2 <= len(udh):
        iei, size = udh[at], udh[at + 1]
        value = udh[at + 2:at + 2 + size]
        if iei == 0x00 and size == 3:
            return value[0], value[1], value[2]
        if iei == 0x08 and size == 4:
            return int.from_bytes(value[:2], "big"), value[2], value[3]
        at += 2 + size
    return None


def decode(data_coding: int, payload: bytes) -> str:
    if data_coding == 8:
        return payload.decode("utf-16-be", errors="replace")
    return payload.decode("latin-1")


def receipt_body(receipt: _Receipt, now: float) -> bytes:
    stamp = time.strftime("%y%m%d%H%M", time.localtime(now))
    submitted = time.strftime("%y%m%d%H%M", time.localtime(receipt.submitted))
    delivered = "001" if receipt.state == "DELIVRD" else "000"
    error = "000" if receipt.state == "DELIVRD" else "001"
    text = (f"id:{receipt.message_id} sub:001 dlvrd:{delivered} submit date:{submitted} done date:{stamp} "
            f"stat:{receipt.state} err:{error} text:").encode("latin-1")
    (source_ton, source_npi, source), (dest_ton, dest_npi, destination) = receipt.source, receipt.destination
    mandatory = (c_octets("") + bytes((source_ton, source_npi)) + c_octets(source) + bytes((dest_ton, dest_npi))
                 + c_octets(destination) + bytes((0x04, 0, 0)) + c_octets("") + c_octets("")
                 + bytes((0, 0, 0, 0, len(text))) + text)
    message_id = c_octets(receipt.message_id)
    return (mandatory + struct.pack(">HH", RECEIPTED_MESSAGE_ID, len(message_id)) + message_id
            + struct.pack(">HHB", MESSAGE_STATE, 1, MESSAGE_STATES[receipt.state]))


@dataclass
class SmppPeer:
    system_id: str = "ews"
    password: str = "secret"
    port: int = 0
    rate: float | None = None   # submit_sm a second; None: no limit
    burst: float | None = None  # the bucket's size; None: one second's worth
    window: int = 100
    latency: float = 0.0
    slow_seconds: float = 1.0
    receipt_delay: float = 0.2
    receipt_window: int = 100
    receipt_retry: float = 1.0
    receipt_timeout: float = 30.0
    receipts_first: bool = False
    invalid_suffix: str = "0000"
    # Destination digits -> the final state of its receipts instead of DELIVRD.
    outcomes: dict[str, str] = field(default_factory=dict)
    record: bool = True
    throttle: bool = False
    queue_full: bool = False

    def __post_init__(self) -> None:
        self.mode = "none"
        self.stats = Stats()
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._submits: list[Submitted] = []
        self._parts: dict[tuple, dict[int, tuple[str, str]]] = {}
        self._connections: set[_Connection] = set()
        self._receipts: deque[_Receipt] = deque()
        self._retries: list[tuple[float, _Receipt]] = []
        # Unique across runs too: the database may still hold a receipt kept for an earlier run's id.
        prefix = f"{os.getpid() & 0xFFFF:04x}{time.time_ns() & 0xFFFFFFFF:08x}"
        self._message_ids = (f"{prefix}{n:08x}" for n in itertools.count(1))
        self._tokens = 0.0
        self._refilled = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None

    # --- control (from any thread) --------------------------------------------------------

    def start(self) -> SmppPeer:
        self._tokens = float(self.burst or self.rate or 0)
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="smpp-peer", daemon=True)
        self._thread.start()
        if not ready.wait(5) or self._server is None:
            raise RuntimeError(f"the SMPP peer could not listen on 127.0.0.1:{self.port}")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def __enter__(self) -> SmppPeer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self._server.sockets[0].getsockname()[:2]

    def fail(self, mode: str) -> None:
        if mode not in FAILURE_MODES:
            raise ValueError(f"unknown failure mode {mode!r}; one of {FAILURE_MODES}")
        self.mode = mode

    def drop_connections(self) -> None:
        """Close every connection at once, as an SMSC restart or a network cut does."""
        self._loop.call_soon_threadsafe(self._drop_all)

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def submits(self) -> list[Submitted]:
        with self._lock:
            return list(self._submits)

    def connections(self) -> int:
        return sum(1 for connection in list(self._connections) if connection.bind)

    # --- the server ---------------------------------------------------------------------------

    def _serve(self, ready: threading.Event) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            self._server = loop.run_until_complete(asyncio.start_server(self._connected, "127.0.0.1", self.port))
        except OSError:
            ready.set()
            return
        maintenance = loop.create_task(self._maintain())
        ready.set()
        try:
            loop.run_forever()
        finally:
            maintenance.cancel()
            self._drop_all()
            self._server.close()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    def _drop_all(self) -> None:
        for connection in list(self._connections):
            self._close(connection)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(writer)
        self._connections.add(connection)
        buffer = b""
        try:
            while connection.open:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                buffer += chunk
                while len(buffer) >= 16 and connection.open:
                    length = int.from_bytes(buffer[:4], "big")
                    if length < 16 or length > 65536:
                        raise ConnectionError(f"bad command_length {length}")
                    if len(buffer) < length:
                        break
                    raw, buffer = buffer[:length], buffer[length:]
                    self._handle(connection, raw)
                if connection.open:
                    await writer.drain()
        except (ConnectionError, OSError, ValueError, IndexError):
            pass
        finally:
            self._close(connection)

    def _close(self, connection: _Connection) -> None:
        if not connection.open:
            return
        connection.open = False
        self._connections.discard(connection)
        connection.writer.transport.abort()
        now = time.monotonic()
        for receipt in connection.deliveries.values():  # never answered: they go again
            self._retries.append((now + self.receipt_retry, receipt))
        connection.deliveries.clear()

    def _write(self, connection: _Connection, data: bytes) -> None:
        if connection.open and not connection.writer.transport.is_closing():
            connection.writer.write(data)

    def _handle(self, connection: _Connection, raw: bytes) -> None:
        _, command, status, sequence = HEADER.unpack_from(raw)
        body = raw[16:]
        if command in BINDS:
            self._bind(connection, command, sequence, body)
        elif command == ENQUIRE_LINK:
            self.stats.enquire_links += 1
            self._write(connection, pdu(ENQUIRE_LINK | RESPONSE, ROK, sequence))
        elif command == UNBIND:
            self._write(connection, pdu(UNBIND | RESPONSE, ROK, sequence))
            self._close(connection)
        elif connection.bind is None:
            self._write(connection, pdu(GENERIC_NACK, RINVBNDSTS, sequence))
        elif command == SUBMIT_SM:
            self._submit(connection, sequence, body)
        elif command == DELIVER_SM | RESPONSE:
            self._receipt_answered(connection, sequence, status)
        elif command == ENQUIRE_LINK | RESPONSE:
            pass
        else:
            self._write(connection, pdu(GENERIC_NACK, RINVCMDID, sequence))

    def _bind(self, connection: _Connection, command: int, sequence: int, body: bytes) -> None:
        system_id, at = c_string(body, 0)
        password, _ = c_string(body, at)
        status = (RALYBND if connection.bind else RINVSYSID if system_id != self.system_id
                  else RINVPASWD if password != self.password else ROK)
        self._write(connection, pdu(command | RESPONSE, status, sequence, c_octets("ews-peer")))
        if status != ROK:
            self.stats.bind_refusals += 1
            return
        self.stats.binds += 1
        connection.system_id, connection.bind = system_id, BINDS[command]
        self._pump()

    def _submit(self, connection: _Connection, sequence: int, body: bytes) -> None:
        self.stats.submits += 1
        if connection.bind == "receiver":
            self._write(connection, pdu(SUBMIT_SM | RESPONSE, RINVBNDSTS, sequence, b"\x00"))
            return
        if self.mode == "drop":
            self._close(connection)
            return
        if self.mode == "timeout":
            return
        fields = parse_submit(body)
        status = self._admit(connection, fields)
        message_id = next(self._message_ids) if status == ROK else None
        self._keep(fields, message_id)
        delay = self.slow_seconds if self.mode == "slow" else self.latency
        connection.outstanding += 1
        self.stats.peak_outstanding = max(self.stats.peak_outstanding, connection.outstanding)
        if status != ROK:
            self.stats.throttled += status == RTHROTTLED
            self._loop.call_later(delay, self._answer, connection, sequence, status, None)
            return
        self.stats.accepted += 1
        if fields["registered_delivery"] & 0x03:
            receipt = _Receipt(message_id, (fields["dest_ton"], fields["dest_npi"], fields["destination"]),
                               (fields["source_ton"], fields["source_npi"], fields["source"]),
                               self.outcomes.get(fields["destination"], "DELIVRD"), connection.system_id, connection,
                               time.time())
            if self.receipts_first:
                self._receipts.append(receipt)
                self._pump()
            else:
                self._loop.call_later(delay + self.receipt_delay, self._queue_receipt, receipt)
        self._loop.call_later(delay, self._answer, connection, sequence, ROK, message_id)

    def _admit(self, connection: _Connection, fields: dict) -> int:
        """The status of a submit_sm's answer: the switches, the window, the rate, the address."""
        if self.mode == "5xx":
            return RSYSERR
        if self.mode == "429" or self.throttle:
            return RTHROTTLED
        if self.queue_full:
            return RMSGQFUL
        if connection.outstanding >= self.window:
            self.stats.window_exceeded += 1
            return RTHROTTLED
        if self.rate is not None:
            now = time.monotonic()
            self._tokens = min(float(self.burst or self.rate), self._tokens + (now - self._refilled) * self.rate)
            self._refilled = now
            if self._tokens < 1:
                return RTHROTTLED
            self._tokens -= 1
        if fields["destination"].endswith(self.invalid_suffix):
            return RINVDSTADR
        return ROK

    def _answer(self, connection: _Connection, sequence: int, status: int, message_id: str | None) -> None:
        connection.outstanding -= 1
        self._write(connection, pdu(SUBMIT_SM | RESPONSE, status, sequence, c_octets(message_id or "")))

    def _keep(self, fields: dict, message_id: str | None) -> None:
        if not self.record:
            return
        udh, payload = split_udh(fields["esm_class"], fields["short_message"])
        text = decode(fields["data_coding"], payload)
        ton, destination = fields["dest_ton"], fields["destination"]
        address = f"+{destination}" if ton == 1 else destination
        with self._lock:
            self._submits.append(Submitted(fields["source"], fields["source_ton"], fields["source_npi"], address, ton,
                                           fields["esm_class"], fields["data_coding"], fields["registered_delivery"],
                                           udh, text, message_id))
            if message_id is None:
                return
            concatenated = concatenation(udh) if udh else None
            if concatenated is None:
                self._received.append(Received(address, (text,), {"parts": 1, "message_ids": [message_id],
                                                                 "data_coding": fields["data_coding"]}))
                return
            reference, total, number = concatenated
            key = (fields["source"], address, reference, total)
            parts = self._parts.setdefault(key, {})
            parts[number] = (text, message_id)
            if len(parts) == total:
                del self._parts[key]
                ordered = [parts[n] for n in sorted(parts)]
                self._received.append(Received(address, ("".join(t for t, _ in ordered),), {
                    "parts": total, "message_ids": [m for _, m in ordered], "data_coding": fields["data_coding"]}))

    # --- receipts ------------------------------------------------------------------------------

    def _queue_receipt(self, receipt: _Receipt) -> None:
        self._receipts.append(receipt)
        self._pump()

    def _pump(self) -> None:
        """Send waiting receipts, oldest first, while a connection has room for the oldest (one system id
        at a time, as the peer has one account: no scan of the whole queue on every answer)."""
        now = time.monotonic()
        while self._receipts:
            connection = self._carrier(self._receipts[0])
            if connection is None:
                return
            receipt = self._receipts.popleft()
            connection.sequence = sequence = connection.sequence % 0x7FFFFFFF + 1
            receipt.sent_at = now
            connection.deliveries[sequence] = receipt
            self.stats.receipts_sent += 1
            self._write(connection, pdu(DELIVER_SM, ROK, sequence, receipt_body(receipt, time.time())))

    def _carrier(self, receipt: _Receipt) -> _Connection | None:
        origin = receipt.origin
        if origin is not None and origin.receives and len(origin.deliveries) < self.receipt_window:
            return origin
        return next((c for c in self._connections if c.receives and c.system_id == receipt.system_id
                     and len(c.deliveries) < self.receipt_window), None)

    def _receipt_answered(self, connection: _Connection, sequence: int, status: int) -> None:
        receipt = connection.deliveries.pop(sequence, None)
        if receipt is None:
            return
        if status == ROK:
            self.stats.receipts_answered += 1
        else:
            self.stats.receipts_refused += 1
            self._retries.append((time.monotonic() + self.receipt_retry, receipt))
        self._pump()

    async def _maintain(self) -> None:
        """Receipts due again, unanswered ones given up on; the rate's clock needs nothing."""
        while True:
            await asyncio.sleep(MAINTENANCE_SECONDS)
            now = time.monotonic()
            for connection in list(self._connections):
                late = [seq for seq, receipt in connection.deliveries.items() if now - receipt.sent_at > self.receipt_timeout]
                for sequence in late:
                    self._retries.append((now + self.receipt_retry, connection.deliveries.pop(sequence)))
            due = [receipt for at, receipt in self._retries if at <= now]
            self._retries = [(at, receipt) for at, receipt in self._retries if at > now]
            for receipt in due:
                receipt.origin = None
            self._receipts.extend(due)
            if self._receipts:
                self._pump()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=2775)
    parser.add_argument("--system-id", default="ews")
    parser.add_argument("--password", default=os.environ.get("SMPP_PEER_PASSWORD", "secret"),
                        help="default: $SMPP_PEER_PASSWORD or 'secret'")
    parser.add_argument("--rate", type=float, help="submit_sm a second (default: no limit)")
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each submit_sm_resp")
    parser.add_argument("--receipt-delay", type=float, default=1.0)
    parser.add_argument("--receipt-window", type=int, default=100)
    parser.add_argument("--no-record", action="store_true", help="keep no texts (benchmarks)")
    args = parser.parse_args()
    peer = SmppPeer(system_id=args.system_id, password=args.password, port=args.port, rate=args.rate,
                    window=args.window, latency=args.latency, receipt_delay=args.receipt_delay,
                    receipt_window=args.receipt_window, record=not args.no_record)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with peer:
        host, port = peer.address
        print(f"smpp peer: listening on {host}:{port} as {args.system_id}", flush=True)
        shown = Stats()
        try:
            while True:
                time.sleep(1)
                now = Stats(**vars(peer.stats))
                if now != shown:
                    print(f"smpp peer: {now.accepted - shown.accepted} submit_sm accepted, "
                          f"{now.throttled - shown.throttled} throttled, {now.receipts_answered - shown.receipts_answered} "
                          f"receipts answered; {peer.connections()} binds", flush=True)
                    shown = now
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
