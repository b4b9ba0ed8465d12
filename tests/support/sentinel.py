"""A Redis master, its replica and three sentinels of Debian's redis-sentinel, each on a free port with its own
directory, for the tests of Sentinel discovery and failover (tests/ha): on loopback, or each on a host of
tests/chaos_ha's namespaces. The machine's own Redis is never
touched; `close` stops every process started here."""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from peers.ports import free_ports
from tests.chaos.servers import wait_for

MASTER_NAME = "ews"
PASSWORD = "sentinel-test-secret"  # the master's, the replica's and the sentinels': /healthz must never show it
START_SECONDS = 30


class SentinelGroup:
    """Ports: master, replica, then the three sentinels. Each process reads a config file in its directory,
    so Sentinel can rewrite the servers' roles there on failover."""

    def __init__(self, directory: Path, hosts: Sequence[str] = ("127.0.0.1",) * 5,
                 wrap: Callable[[str], list[str]] = lambda address: []):
        """`hosts`: the addresses of the master, the replica and the three sentinels; `wrap` gives the command
        prefix that runs a process on the host of an address (tests/chaos_ha: `ip netns exec …`)."""
        binary = shutil.which("redis-sentinel")
        if binary is None:
            raise RuntimeError("redis-sentinel is not installed: `make sentinel` (part of `make test`) installs it")
        self.binaries = {"server": shutil.which("redis-server") or "redis-server", "sentinel": binary}
        self.directory = directory
        first = free_ports(5)
        self.master_port, self.replica_port = first, first + 1
        self.sentinel_ports = [first + 2, first + 3, first + 4]
        self.address = dict(zip([first, first + 1, *self.sentinel_ports], hosts, strict=True))
        self.wrap = wrap
        self.processes: list[subprocess.Popen] = []
        self.servers: dict[int, subprocess.Popen] = {}  # by port: the latest process of each server

    @property
    def settings(self) -> dict[str, str]:
        """The app's settings that reach the master through these sentinels."""
        return {"REDIS_SENTINELS": ",".join(f"{self.address[port]}:{port}" for port in self.sentinel_ports),
                "REDIS_SENTINEL_MASTER": MASTER_NAME, "REDIS_SENTINEL_PASSWORD": PASSWORD}

    def start(self) -> None:
        """The sentinels start once the replica is in sync, so their first look at the master finds it."""
        self._run("server", self.master_port, [])
        self._run("server", self.replica_port, [f"replicaof {self.address[self.master_port]} {self.master_port}"])
        wait_for(self._replica_in_sync, START_SECONDS, "the replica to sync with the master")
        for port in self.sentinel_ports:
            self._run("sentinel", port, [
                f"sentinel monitor {MASTER_NAME} {self.address[self.master_port]} {self.master_port} 2",
                f"sentinel auth-pass {MASTER_NAME} {PASSWORD}",
                f"sentinel down-after-milliseconds {MASTER_NAME} 1000",
                f"sentinel failover-timeout {MASTER_NAME} 10000",
                f"requirepass {PASSWORD}"])
        wait_for(self._ready_for_failover, START_SECONDS, "every sentinel to see the replica and the other sentinels")

    def kill_master(self) -> None:
        """The master's machine dies (SIGKILL); wait until the sentinels agree, elect a leader and every one
        names the promoted replica. Nothing writes to the dead master meanwhile, as it would to one a forced
        SENTINEL FAILOVER leaves running until it is turned into a replica."""
        assert self.servers, "start() first"
        self.servers[self.master_port].kill()
        self.servers[self.master_port].wait(timeout=10)
        self.await_promotion()

    def await_promotion(self, lost: Collection[int] = ()) -> None:
        """Wait until the replica is master and every sentinel but those on the ports `lost` (gone with the
        master's machine) names it; from then on the old master is the replica to be."""
        dead, new = self.master_port, self.replica_port
        alive = [port for port in self.sentinel_ports if port not in lost]
        wait_for(lambda: self._role(new) == "master" and all(self._master_seen_by(port) == new for port in alive),
                 START_SECONDS, "the sentinels to promote the replica")
        self.master_port = new
        self.replica_port = dead

    def ports_at(self, address: str) -> list[int]:
        """The servers and sentinels that run on the host of `address`."""
        return [port for port, known in self.address.items() if known == address]

    def revive(self, port: int) -> None:
        """Start the server or sentinel on `port` again from its config file: a master the sentinels replaced
        comes back as the master it was, and the sentinels turn it into a replica of the new one; a sentinel
        comes back with what it last knew and learns the new master from the others."""
        self._launch("sentinel" if port in self.sentinel_ports else "server", port)

    def close(self) -> None:
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait(timeout=10)

    def _run(self, kind: str, port: int, lines: list[str]) -> subprocess.Popen:
        home = self.directory / f"{kind}-{port}"
        home.mkdir()
        config = home / f"{kind}.conf"
        server = [f"requirepass {PASSWORD}", f"masterauth {PASSWORD}", 'save ""', "appendonly no",
                  "repl-diskless-sync-delay 0"] if kind == "server" else []
        config.write_text("\n".join([f"port {port}", f"bind {self.address[port]}", f'dir "{home}"', *server, *lines])
                          + "\n")
        return self._launch(kind, port)

    def _launch(self, kind: str, port: int) -> subprocess.Popen:
        home = self.directory / f"{kind}-{port}"
        process = subprocess.Popen([*self.wrap(self.address[port]), self.binaries[kind], str(home / f"{kind}.conf")],
                                   cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if kind == "server":
            self.servers[port] = process
        self.processes.append(process)
        return process

    def _client(self, port: int) -> Redis:
        return Redis(host=self.address[port], port=port, password=PASSWORD, socket_timeout=1, socket_connect_timeout=1,
                     retry=None)

    def _role(self, port: int) -> str | None:
        try:
            return self._client(port).role()[0].decode()
        except RedisError:
            return None

    def _master_seen_by(self, sentinel: int) -> int | None:
        try:
            return int(self._client(sentinel).sentinel_get_master_addr_by_name(MASTER_NAME)[1])
        except (RedisError, TypeError):
            return None

    def _replica_in_sync(self) -> bool:
        try:
            return self._client(self.master_port).info("replication").get("slave0", {}).get("state") == "online"
        except RedisError:
            return False

    def _ready_for_failover(self) -> bool:
        """Each sentinel knows the replica in sync and the two other sentinels (whose votes a failover needs)."""
        try:
            for port in self.sentinel_ports:
                client = self._client(port)
                replicas = client.sentinel_slaves(MASTER_NAME)
                if not any(int(replica["port"]) == self.replica_port and replica["master-link-status"] == "ok"
                           and replica["flags"] == "slave" for replica in replicas):
                    return False
                if len(client.sentinel_sentinels(MASTER_NAME)) < len(self.sentinel_ports) - 1:
                    return False
            return True
        except RedisError:
            return False
