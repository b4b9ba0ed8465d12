"""Free loopback ports for the peers and the servers that the tests and the benchmarks start."""
from __future__ import annotations

import random
import socket


def free_ports(count: int) -> int:
    """The first of `count` consecutive free loopback ports."""
    for _ in range(50):
        first = random.randrange(20_000, 40_000)
        sockets = [socket.socket() for _ in range(count)]
        try:
            for offset, sock in enumerate(sockets):
                sock.bind(("127.0.0.1", first + offset))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free run of loopback ports")
