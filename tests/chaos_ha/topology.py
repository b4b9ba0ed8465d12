"""The hosts of the two-site deployment on one machine (issue 19, `make chaos-ha`): a network namespace per
host, each with one veth into a bridge and its own address in 10.77.0.0/24. The bridge holds 10.77.0.1, the
test process's address, where the gateway peers listen; nothing is routed off the machine.

    python -m tests.chaos_ha.topology up | down | show

`down` kills every process left in the namespaces, deletes them and the bridge, and is idempotent: `up`
starts with it, so a run killed halfway is cleaned up by the next one (or by `make chaos-ha-clean`).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

PREFIX = "chaosha"
BRIDGE = f"{PREFIX}0"
GATEWAY = "10.77.0.1"
# The witness is the third site: it holds pg_auto_failover's monitor and the third sentinel, so that losing
# either data site (db1+redis1 or db2+redis2) leaves a majority of sentinels and a monitor to promote.
HOSTS = {
    "witness": "10.77.0.10", "db1": "10.77.0.11", "db2": "10.77.0.12", "redis1": "10.77.0.21",
    "redis2": "10.77.0.22", "app1": "10.77.0.31", "app2": "10.77.0.32", "lb": "10.77.0.40",
}


def namespace(host: str) -> str:
    return f"{PREFIX}-{host}"


def host_of(address: str) -> str:
    """The host that has `address`."""
    return next(host for host, known in HOSTS.items() if known == address)


def inside(host: str) -> list[str]:
    """The command prefix that runs a program on `host`."""
    return ["ip", "netns", "exec", namespace(host)]


def _ip(*arguments: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *arguments], capture_output=True, text=True)
    if check and done.returncode:
        raise RuntimeError(f"ip {' '.join(arguments)} failed: {done.stderr.strip()}")
    return done.stdout


def namespaces() -> list[str]:
    return [line.split()[0] for line in _ip("netns", "list").splitlines() if line.startswith(f"{PREFIX}-")]


def kill_host(host: str) -> int:
    """SIGKILL every process on `host`, as when its power fails; returns how many there were."""
    pids = [int(pid) for pid in _ip("netns", "pids", namespace(host), check=False).split()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


def power_off(host: str) -> int:
    """The machine lost, not a process: every process on `host` SIGKILLed and its link down, so the others'
    packets to it go unanswered (no connection refused, as a live kernel would send); returns how many
    processes died. `mend` brings the link back; each service is then restarted by its owner."""
    killed = kill_host(host)
    cut(host)
    return killed


def down() -> None:
    for name in namespaces():
        kill_host(name.removeprefix(f"{PREFIX}-"))
        _ip("netns", "del", name)
    _ip("link", "del", BRIDGE, check=False)


def up() -> None:
    down()
    _ip("link", "add", BRIDGE, "type", "bridge")
    _ip("addr", "add", f"{GATEWAY}/24", "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")
    for host, address in HOSTS.items():
        name = namespace(host)
        _ip("netns", "add", name)
        _ip("link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", name)
        _ip("link", "set", name, "master", BRIDGE, "up")
        _ip("-n", name, "addr", "add", f"{address}/24", "dev", "eth0")
        _ip("-n", name, "link", "set", "eth0", "up")
        _ip("-n", name, "link", "set", "lo", "up")


def cut(host: str) -> None:
    """The host's network cable pulled: its processes run on, reaching nothing and reached by nothing."""
    _ip("-n", namespace(host), "link", "set", "eth0", "down")


def mend(host: str) -> None:
    _ip("-n", namespace(host), "link", "set", "eth0", "up")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "show"
    if command == "up":
        up()
    elif command == "down":
        down()
    print("\n".join(f"{name}: {HOSTS[name.removeprefix(PREFIX + '-')]}" for name in namespaces()) or "no hosts")
