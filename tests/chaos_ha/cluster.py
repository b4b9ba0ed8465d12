"""The failover machinery of the two-site deployment, on the hosts of topology.py.

PostgreSQL: pg_auto_failover (Debian's postgresql-15-auto-failover): a monitor on the witness host and a keeper
(`pg_autoctl run`) with PostgreSQL 15 on db1 and db2, all run as the `postgres` user (PostgreSQL refuses root).
Every node has a port of its own although each host has its own network: the Unix sockets all land in
/var/run/postgresql, shared with the machine's own server. The load balancer: Debian's haproxy on lb.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import psycopg

from peers.ports import free_ports
from tests.chaos.servers import wait_for

from . import topology

BIN = Path("/usr/lib/postgresql/15/bin")
DATABASE = "ews"
START_SECONDS = 120
# The monitor's failure detection, shorter than its defaults (5 s checks, 20 s before a node is unhealthy, 30 s
# waiting for a lost primary to confirm its demotion), so that a failover takes about 15 s rather than 40 s.
# A keeper that loses the monitor and its standby demotes itself after NETWORK_PARTITION_SECONDS, below the
# demote timeout: an isolated old primary has stopped taking writes before the standby is promoted.
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": 1000, "pgautofailover.health_check_timeout": 1000,
    "pgautofailover.health_check_max_retries": 1, "pgautofailover.health_check_retry_delay": 500,
    "pgautofailover.node_considered_unhealthy_timeout": 4000, "pgautofailover.primary_demote_timeout": 10000,
}
NETWORK_PARTITION_SECONDS = 5


class PgAutoFailover:
    """A monitor and two data nodes; `url` is the service's multi-host DATABASE_URL."""

    def __init__(self, directory: Path, data_hosts: tuple[str, ...] = ("db1", "db2"), monitor_host: str = "witness"):
        if shutil.which("pg_autoctl") is None:
            raise RuntimeError("pg_autoctl is missing: `make failover-tools` installs postgresql-15-auto-failover")
        self.directory = directory
        self.monitor_host, self.data_hosts = monitor_host, data_hosts
        first = free_ports(1 + len(data_hosts))
        self.ports = {monitor_host: first, **{host: first + 1 + index for index, host in enumerate(data_hosts)}}
        self.keepers: dict[str, subprocess.Popen] = {}
        postgres = pwd.getpwnam("postgres")
        os.chown(directory, postgres.pw_uid, postgres.pw_gid)

    @property
    def url(self) -> str:
        hosts = ",".join(f"{topology.HOSTS[host]}:{self.ports[host]}" for host in self.data_hosts)
        return f"postgresql://postgres@{hosts}/{DATABASE}?target_session_attrs=read-write&connect_timeout=2"

    @property
    def monitor_uri(self) -> str:
        return (f"postgres://autoctl_node@{topology.HOSTS[self.monitor_host]}:{self.ports[self.monitor_host]}"
                "/pg_auto_failover?sslmode=disable")

    def autoctl(self, host: str, *arguments: str) -> str:
        """`pg_autoctl …` on `host`, as postgres, with its state kept in this run's directory."""
        done = subprocess.run([*topology.inside(host), "runuser", "-u", "postgres", "--", *self._env(), "pg_autoctl",
                               *arguments], capture_output=True, text=True, cwd="/tmp")
        if done.returncode:
            raise RuntimeError(f"pg_autoctl {' '.join(arguments)} on {host} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout

    def create(self) -> None:
        """The monitor, then db1 (the first primary), then db2 (cloned from it as the synchronous standby)."""
        common = ["--auth", "trust", "--no-ssl", "--hostname"]
        self.autoctl(self.monitor_host, "create", "monitor", "--pgdata", self._pgdata(self.monitor_host),
                     "--pgport", str(self.ports[self.monitor_host]), *common, topology.HOSTS[self.monitor_host])
        self.run(self.monitor_host)
        self._tune_monitor()
        for host in self.data_hosts:
            self.autoctl(host, "create", "postgres", "--pgdata", self._pgdata(host), "--pgport", str(self.ports[host]),
                         "--name", host, "--dbname", DATABASE, "--monitor", self.monitor_uri, "--pg-hba-lan",
                         *common, topology.HOSTS[host])
            self.autoctl(host, "config", "set", "--pgdata", self._pgdata(host), "timeout.network_partition_timeout",
                         str(NETWORK_PARTITION_SECONDS))
            self._let_rewind(host)
            self.run(host)
        self.wait_healthy()

    def _let_rewind(self, host: str) -> None:
        """pg_auto_failover's HBA rules let the replication user into the --dbname database only, while its
        pg_rewind connects to `postgres`: without this line an old primary cannot rewind and is rebuilt with
        pg_basebackup instead, which waits minutes for a spread checkpoint on the new primary."""
        rule = f'host "postgres" "pgautofailover_replicator" {topology.GATEWAY}/24 trust  # pg_rewind (tests/chaos_ha)\n'
        hba = Path(self._pgdata(host)) / "pg_hba.conf"
        if rule not in hba.read_text():
            with hba.open("a") as out:
                out.write(rule)

    def run(self, host: str) -> None:
        """`pg_autoctl run` on `host` (the keeper starts and supervises PostgreSQL): first start or restart."""
        log = open(self.directory / f"{host}.log", "ab")
        self.keepers[host] = subprocess.Popen(
            [*topology.inside(host), "runuser", "-u", "postgres", "--", *self._env(), "pg_autoctl", "run",
             "--pgdata", self._pgdata(host)], stdout=log, stderr=log, cwd="/tmp")

    def states(self) -> dict[str, str]:
        """Each data node's state as the monitor last heard it."""
        with psycopg.connect(self._monitor_dsn(), autocommit=True) as connection:
            return dict(connection.execute("SELECT nodename, reportedstate::text FROM pgautofailover.node").fetchall())

    def primary(self) -> str:
        """The host that takes writes now, as the service's URL finds it."""
        with psycopg.connect(self.url) as connection:
            address = str(connection.execute("SELECT inet_server_addr()").fetchone()[0])
        return topology.host_of(address)

    def wait_healthy(self, timeout: float = START_SECONDS) -> None:
        """A primary and a secondary in sync, the state the next fault starts from."""
        wait_for(lambda: sorted(self._states_or_none().values()) == ["primary", "secondary"], timeout,
                 "a primary and its synchronous secondary", interval=1)

    def synchronous_standby_names(self) -> str:
        with psycopg.connect(self.url) as connection:
            return str(connection.execute("SHOW synchronous_standby_names").fetchone()[0])

    def stop(self) -> None:
        for host in (*self.data_hosts, self.monitor_host):
            topology.kill_host(host)

    def _states_or_none(self) -> dict[str, str]:
        try:
            return self.states()
        except psycopg.Error:
            return {}

    def _tune_monitor(self) -> None:
        def tuned() -> bool:
            try:
                with psycopg.connect(self._monitor_dsn(), autocommit=True) as connection:
                    for name, value in MONITOR_SETTINGS.items():
                        connection.execute(f"ALTER SYSTEM SET {name} = {value}")
                    connection.execute("SELECT pg_reload_conf()")
                return True
            except psycopg.Error:
                return False
        wait_for(tuned, START_SECONDS, "the monitor to take its settings", interval=1)

    def _monitor_dsn(self) -> str:
        return f"host=/var/run/postgresql port={self.ports[self.monitor_host]} user=postgres dbname=pg_auto_failover"

    def _pgdata(self, host: str) -> str:
        return str(self.directory / host)

    def _env(self) -> list[str]:
        state = self.directory / "xdg"
        return ["env", f"PATH={BIN}:{os.environ['PATH']}", f"XDG_CONFIG_HOME={state}", f"XDG_DATA_HOME={state}",
                f"XDG_RUNTIME_DIR={state}"]


class LoadBalancer:
    """haproxy on the lb host in front of the app hosts' gunicorns: a host whose /healthz fails twice is taken
    out, a connection that fails is dispatched to the other; whatever haproxy itself must refuse (no host up, a
    host gone while it held the request) is a 503 with Retry-After, as the app's own refusals are. Requests are
    spread over the hosts one by one (roundrobin, no stickiness); each answer names its host in X-Served-By."""

    def __init__(self, directory: Path, backends: dict[str, tuple[str, int]], host: str = "lb"):
        self.address, self.port = topology.HOSTS[host], free_ports(1)
        refusal = directory / "503.http"
        refusal.write_text("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: application/problem+json"
                           "\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
                           '{"title": "Service Unavailable", "status": 503, "detail": "no app host answered; retry"}\n')
        servers = "\n".join(f"    server {name} {address}:{port} check inter 1s fall 2 rise 2"
                            for name, (address, port) in backends.items())
        config = directory / "haproxy.cfg"
        config.write_text(f"""global
    maxconn 512
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 20s
    retries 2
    option redispatch
    errorfile 502 {refusal}
    errorfile 503 {refusal}
    errorfile 504 {refusal}
frontend ews
    bind {self.address}:{self.port}
    default_backend apps
backend apps
    balance roundrobin
    option httpchk GET /healthz
    http-response set-header X-Served-By %[srv_name]
{servers}
""")
        log = open(directory / "haproxy.log", "ab")
        self.process = subprocess.Popen([*topology.inside(host), shutil.which("haproxy") or "/usr/sbin/haproxy",
                                         "-db", "-f", str(config)], stdout=log, stderr=log)

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
