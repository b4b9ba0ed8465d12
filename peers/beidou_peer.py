"""A BeiDou user terminal for tests: a TCP server that pyserial reaches as socket://127.0.0.1:PORT.

It speaks the sentences of warning_service.channels.beidou.serial line by line (CR LF), both dialects:
$CCICA -> $BDICI and $CCICR -> $BDICP (the card: address, interval, level, group address);
$CCTXA / $CCTCQ -> $BDFKI. Like a card it enforces its interval (a send sooner than
`interval` after the last one it transmitted is refused, frequency not passed, with the wait)
and refuses the addresses in `refused` (reason 6, no permission). A sentence with a wrong
checksum is dropped without an answer, as the terminals' own parsers drop such frames; the
sender then times out.

What it transmits is decoded (Chinese as GB2312, code as digits, mixed bytes as UTF-8, else
GB18030), numbered parts "1/3 " are joined, and each complete text is one `Received`.

Failure modes (`fail(mode)`): "none"; "slow" (answers after SLOW_SECONDS); "5xx" (card fault:
every send refused, reason 4, power not locked); "429" (every send refused as too soon);
"timeout" (no answer at all); "drop" (the connection is closed on the next sentence);
"bad_checksum" (answers carry a wrong checksum; the sends still go).
"""
from __future__ import annotations

import math
import re
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field

from peers.received import FAILURE_MODES, Received
from warning_service.channels.beidou.serial import MIXED_PREFIX, GarbledReply, parse, sentence

PEER_FAILURE_MODES = (*FAILURE_MODES, "bad_checksum")
SLOW_SECONDS = 0.5
FREQUENCY, FAULT, NO_PERMISSION = 1, 4, 6
HEADER = re.compile(r"([0-9０-９]+)[/／]([0-9０-９]+)[ 　]")
CODECS = {"chinese": "gb2312", "code": "ascii"}
TXA_MODES = {"0": "chinese", "1": "code", "2": "mixed"}
TCQ_MODES = {"1": "chinese", "2": "code", "3": "mixed"}


class _Dropped(Exception):
    pass


@dataclass
class _Series:
    """The numbered parts of one text arriving for one address."""

    total: int
    pieces: dict[int, str] = field(default_factory=dict)
    modes: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


def decode(data: bytes, mode: str) -> str:
    if mode in CODECS:
        return data.decode(CODECS[mode])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _wait_mmss(seconds: float) -> str:
    whole = math.ceil(seconds)
    return f"{whole // 60:02d}{whole % 60:02d}"


class BeidouPeer:
    def __init__(self, card_address: str = "0241636", interval: float = 0.2, level: int = 3,
                 group: str | None = "1933442", refused: frozenset[str] = frozenset({"0999999"}), port: int = 0,
                 host: str = "127.0.0.1"):
        self.card_address, self.interval, self.level, self.group = card_address, interval, level, group
        self.refused = refused
        self.lines: list[bytes] = []       # every line that arrived, as it arrived
        self._received: list[Received] = []
        self._series: dict[str, _Series] = {}
        self._mode = "none"
        self._last_send = -math.inf
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server = _Server(self, host, port)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"socket://{host}:{port}"

    def fail(self, mode: str) -> None:
        if mode not in PEER_FAILURE_MODES:
            raise ValueError(f"unknown failure mode {mode!r}")
        self._mode = mode

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def __enter__(self) -> BeidouPeer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        for connection in list(self._connections):
            connection.close()
        self._server.server_close()

    # --- answering -------------------------------------------------------------------

    def answer(self, line: bytes) -> bytes | None:
        """The terminal's answer to one line, None for none; _Dropped to close the connection."""
        self.lines.append(line)
        mode = self._mode
        if mode == "drop":
            raise _Dropped
        try:
            fields = parse(line)
        except (ValueError, GarbledReply):
            return None
        if mode == "timeout":
            return None
        handlers = {"CCICA": self._ici, "CCICR": self._icp, "CCTXA": self._txa, "CCTCQ": self._tcq}
        if fields[0] not in handlers:
            return None
        reply = sentence(handlers[fields[0]](fields).encode("latin-1"))
        if mode == "slow":
            time.sleep(SLOW_SECONDS)
        if mode == "bad_checksum":
            star = reply.rindex(b"*")
            reply = reply[:star + 1] + f"{int(reply[star + 1:star + 3], 16) ^ 0xFF:02X}".encode() + b"\r\n"
        return reply

    def _ici(self, fields: list[str]) -> str:
        return (f"BDICI,{self.card_address},02097151,{self.group or '0000000'},6,{self.interval:g},"
                f"{self.level},N,0")

    def _icp(self, fields: list[str]) -> str:
        return (f"BDICP,{self.card_address},{self.group or '0'},1,3,0,N,1,Y,1,0,0,3,1,{self.interval:g},"
                f"{self.level},1,1,2,2,0,100,10,10")

    def _txa(self, fields: list[str]) -> str:
        destination, mode, content = fields[1], TXA_MODES[fields[3]], fields[4].encode("latin-1")
        if mode == "mixed":
            content = bytes.fromhex(content.removeprefix(MIXED_PREFIX).decode())
        ok, reason, wait = self._transmit(destination, mode, decode(content, mode))
        if ok:
            return f"BDFKI,TXA,Y,Y,0,{_wait_mmss(wait)}"
        if reason == FREQUENCY:
            return f"BDFKI,TXA,N,N,0,{_wait_mmss(wait)}"
        return f"BDFKI,TXA,N,Y,{reason},0000"

    def _tcq(self, fields: list[str]) -> str:
        destination, mode, hex_data = fields[1], TCQ_MODES[fields[4]], fields[5]
        if mode == "mixed":
            hex_data = hex_data.removeprefix(MIXED_PREFIX.decode())
        ok, reason, wait = self._transmit(destination, mode, decode(bytes.fromhex(hex_data), mode))
        return f"BDFKI,{time.strftime('%H%M%S')},TCQ,{'Y' if ok else 'N'},{reason},{math.ceil(wait)}"

    def _transmit(self, destination: str, mode: str, text: str) -> tuple[bool, int, float]:
        """(sent, reason, wait): what the card does with one send sentence."""
        with self._lock:
            now = time.monotonic()
            wait = self._last_send + self.interval - now
            if self._mode == "5xx":
                return False, FAULT, 0.0
            if self._mode == "429" or wait > 0:
                return False, FREQUENCY, max(wait, self.interval)
            if destination in self.refused:
                return False, NO_PERMISSION, 0.0
            self._last_send = now
            self._record(destination, mode, text, now)
            return True, 0, self.interval

    def _record(self, destination: str, mode: str, text: str, at: float) -> None:
        numbered = HEADER.match(text)
        if numbered is None:
            self._received.append(Received(destination, (text,), self._extra(destination, [text], [mode], [at])))
            return
        index, total = int(numbered[1]), int(numbered[2])
        series = self._series.get(destination)
        if index == 1 or series is None or series.total != total:
            series = self._series[destination] = _Series(total)
        series.pieces[index] = text[numbered.end():]
        series.modes.append(mode)
        series.times.append(at)
        if len(series.pieces) == total:
            del self._series[destination]
            pieces = [series.pieces[i] for i in range(1, total + 1)]
            self._received.append(Received(destination, ("".join(pieces),),
                                           self._extra(destination, pieces, series.modes, series.times)))

    def _extra(self, destination: str, pieces: list[str], modes: list[str], times: list[float]) -> dict:
        mode = modes[0] if len(set(modes)) == 1 else tuple(modes)
        return {"parts": len(pieces), "mode": mode, "times": times, "pieces": pieces,
                "broadcast": destination == self.group}


class _Connection(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.peer._connections.add(self.request)

    def handle(self) -> None:
        for line in iter(self.rfile.readline, b""):
            try:
                reply = self.server.peer.answer(line)
            except _Dropped:
                return
            if reply is not None:
                self.wfile.write(reply)

    def finish(self) -> None:
        self.server.peer._connections.discard(self.request)
        super().finish()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True

    allow_reuse_address = True

    def __init__(self, peer: BeidouPeer, host: str, port: int):
        super().__init__((host, port), _Connection)
        self.peer = peer
