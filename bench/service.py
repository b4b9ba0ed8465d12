"""What the load benchmarks share: the service as it runs in production (gunicorn serving
`wsgi:app`, `python worker.py` workers) on loopback, API keys issued the project's way,
distinct CAP 1.2 messages, the operators' CBCs as peers that note when they accepted what,
and percentiles.
"""
from __future__ import annotations

import http.client
import itertools
import os
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
# The repository first, and this directory (the scripts', which Python put first) after the installed
# packages: its twilio.py must not stand in for the twilio package.
sys.path[:] = [str(ROOT)] + [path for path in sys.path if Path(path or ".").resolve() != BENCH] + [str(BENCH)]

from redis import Redis  # noqa: E402
from rq import Worker  # noqa: E402
from rq.job import Job  # noqa: E402
from rq.registry import FinishedJobRegistry  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from peers.cbc_peer import CbcPeer  # noqa: E402
from peers.ports import free_ports  # noqa: E402
from tests.support.backends import empty_redis  # noqa: E402
from tests.support.cap_builder import cap_xml, info_xml  # noqa: E402
from warning_service.channels.cell_broadcast.message import identifier  # noqa: E402
from warning_service.demo_data import DEMO_CBC_OPERATORS, point_demo_cbc  # noqa: E402
from warning_service.dispatch.queueing import queue_name  # noqa: E402
from warning_service.extensions import db, redis_client  # noqa: E402
from warning_service.models import Agency, Alert, AlertState, Delivery, DeliveryStatus  # noqa: E402
from warning_service.security.api_keys import issue_agency_key  # noqa: E402

STARTUP_SECONDS = 60.0
_serial = itertools.count(1)


def start_gunicorn(env: dict[str, str], workers: int, port: int, root: Path = ROOT) -> subprocess.Popen:
    """`gunicorn wsgi:app` on 127.0.0.1:port, returned once /healthz answers; `root`: another checkout's app
    (a before and after)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "wsgi:app"], env=env, cwd=root, stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with code {process.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status < 500:
                return process
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    stop(process)
    raise SystemExit("gunicorn did not answer /healthz in time")


def start_workers(env: dict[str, str], count: int, critical_only: int = 0) -> list[subprocess.Popen]:
    """`count` RQ workers as in service, and `critical_only` more serving only the critical queue,
    returned once all have registered with Redis (warmed up, waiting)."""
    commands = [["worker.py"]] * count + [["worker.py", "--queues", "critical"]] * critical_only
    processes = [subprocess.Popen([sys.executable, *command], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True) for command in commands]
    connection = Redis.from_url(env["REDIS_URL"])
    deadline = time.monotonic() + STARTUP_SECONDS
    while Worker.count(connection=connection) < len(processes):
        if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
            stop(*processes)
            raise SystemExit("the workers did not start")
        time.sleep(0.1)
    return processes


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def agency_key(agency_name: str) -> tuple[str, str]:
    """A fresh API key for a seeded agency, issued as the admin page and the CLI issue it; (key, CAP sender)."""
    agency = db.session.scalar(select(Agency).where(Agency.name == agency_name))
    if agency is None:
        raise SystemExit(f"agency {agency_name!r} is missing: the benchmark database was not seeded")
    key = issue_agency_key(db.session, agency, via="bench")
    db.session.commit()
    return key, agency.default_sender


def rainstorm_cap(sender: str, counties: tuple[str, ...] = ("513301", "513322")) -> bytes:
    """A yellow rainstorm warning with a new identifier: a weather agency's alert waits for review."""
    return cap_xml(f"BENCH-RAIN-{os.getpid()}-{time.time_ns()}-{next(_serial)}",
                   info_xml(event="暴雨黄色预警", severity="Moderate", headline="暴雨黄色预警 (benchmark)",
                            description="未来6小时降雨量将达50毫米以上。", geocodes=counties, area_desc="康定市 泸定县"),
                   sender=sender)


def earthquake_cap(sender: str, counties: tuple[str, ...] = ("513322",)) -> bytes:
    """An earthquake early warning with a new identifier: the seismic agency's alerts publish at once."""
    return cap_xml(f"BENCH-EEW-{os.getpid()}-{time.time_ns()}-{next(_serial)}",
                   info_xml(category="Geo", event="地震预警", severity="Extreme", headline="地震预警 (benchmark)",
                            parameters=(("magnitude", "6.1"), ("depth_km", "12")), geocodes=counties,
                            area_desc="泸定县"),
                   sender=sender)


def post_cap(connection: http.client.HTTPConnection, key: str, body: bytes,
             content_type: str = "application/cap+xml") -> tuple[int, bytes]:
    connection.request("POST", "/api/v1/alerts", body=body,
                       headers={"Authorization": f"Bearer {key}", "Content-Type": content_type})
    response = connection.getresponse()
    return response.status, response.read()


def clean_slate(redis_url: str) -> None:
    """No deliveries and empty queues, so a run starts where the last one did (the alerts stay)."""
    db.session.execute(text("TRUNCATE deliveries, delivery_attempts RESTART IDENTITY CASCADE"))
    db.session.commit()
    empty_redis(redis_url)  # but a test session's claim on it: else another session takes the database meanwhile


def settled(alert_ids: list[int]) -> bool:
    """Every alert planned to the end and none of its deliveries waiting or being sent."""
    planned = set(db.session.scalars(select(Alert.state).where(Alert.id.in_(alert_ids)))) == {AlertState.PUBLISHED}
    busy = db.session.scalar(select(select(Delivery.id).where(
        Delivery.alert_id.in_(alert_ids), Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
    ).exists()))
    db.session.commit()
    return planned and not busy


# The moments of one alert's way to the CBCs, in order: the alert stored (its row written by the intake), its
# plan's first job queued and taken by a worker (RQ's times), its first cell broadcast delivery planned, the
# batch job of those deliveries taken by a worker, the last one claimed, the last CBC's 202 sent back, the
# last acceptance recorded.
# The plan job that writes the CBCs' deliveries claims and sends them itself (ChannelSpec.sent_by_plan): no batch job.
CBC_STAGES = ("stored", "plan queued", "plan started", "planned", "claimed", "accepted", "recorded")


def cbc_stages(alert_id: int, start: float, accepted: float) -> dict[str, float]:
    """Each of CBC_STAGES in ms after `start` (a time.time()): where the time to every CBC went. Read once the
    alert has settled, within RQ's result TTL (the jobs' times are kept with their results)."""
    alert = db.session.get(Alert, alert_id)
    rows = db.session.execute(select(Delivery.id, Delivery.created_at, Delivery.claimed_at, Delivery.sent_at)
                              .where(Delivery.alert_id == alert_id, Delivery.channel == "cell_broadcast")).all()
    moments = {"stored": alert.received_at, "planned": min(row.created_at for row in rows),
               "claimed": max(row.claimed_at for row in rows), "recorded": max(row.sent_at for row in rows)}
    queue = queue_name(alert)
    db.session.commit()
    connection = redis_client()
    registry = FinishedJobRegistry(queue, connection=connection)
    for job in Job.fetch_many(registry.get_job_ids(), connection=connection):
        if job is not None and job.func_name.endswith("plan_alert") and list(job.args) == [alert_id, None]:
            moments["plan queued"], moments["plan started"] = job.enqueued_at, job.started_at
    seconds = {stage: moment.replace(tzinfo=moment.tzinfo or UTC).timestamp() for stage, moment in moments.items()}
    seconds["accepted"] = accepted
    return {stage: round((seconds[stage] - start) * 1000, 1) for stage in CBC_STAGES}


def stage_rows(samples: list[float], stages: list[dict[str, float]],
               names: tuple[str, ...] = CBC_STAGES) -> list[list[object]]:
    """The median moment of each of the stages `names` over all samples, and the stages of the slowest sample."""
    slowest = stages[max(range(len(samples)), key=samples.__getitem__)]
    return [["median of all samples", *(round(median([s[stage] for s in stages]), 1) for stage in names)],
            ["slowest sample", *(slowest[stage] for stage in names)]]


class TimedCbc(CbcPeer):
    """One operator's CBC (peers/cbc_peer.py: the CAP checked against the schema and the contract), telling
    `note` when it first accepted each message: the moment its 202 with the cbc_message_id goes back."""

    def __init__(self, *args, note, **kwargs):
        super().__init__(*args, **kwargs)
        self._note = note

    def answer(self, front, headers, body):
        status, reply = super().answer(front, headers, body)
        if status == 202:
            at = time.time()
            taken = next((message for message in reversed(self.received())
                          if message.extra["cbc_message_id"] == reply["cbc_message_id"]), None)
            if taken is not None:  # None: a link test, never broadcast
                self._note(taken.extra["identifier"], at)
        return status, reply


class CbcPeers:
    """The demo operators' CBCs (cmcc, cucc, ctcc), each a peer on two free ports (primary, failover) that
    their rows are aimed at, calling back to the service at `callback_base` with signed status callbacks.
    Use as a context manager."""

    CALLBACKS_PER_MESSAGE = 2  # broadcasting, then completed

    def __init__(self, session: Session, callback_base: str):
        self.session, self.callback_base = session, callback_base
        self.peers: list[TimedCbc] = []
        self._accepted: dict[str, float] = {}  # CAP identifier -> time.time() of the first 202
        self._new = threading.Condition()
        self._stack = ExitStack()

    def __enter__(self) -> CbcPeers:
        config = point_demo_cbc(self.session, free_ports(2 * len(DEMO_CBC_OPERATORS)))
        self.session.commit()
        missing = {code for code, _ in DEMO_CBC_OPERATORS} - set(config)
        if missing:
            raise SystemExit(f"the demo CBCs {sorted(missing)} are missing: the benchmark database was not seeded")
        for code, peer in config.items():
            self.peers.append(self._stack.enter_context(TimedCbc(
                code, peer["token"], peer["callback_secret"], ports=peer["ports"], max_vertices=peer["max_vertices"],
                exercise=peer["exercise"], callback_url=f"{self.callback_base}/webhooks/cbc/{code}/status",
                note=self._note)))
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def _note(self, cap_identifier: str, at: float) -> None:
        with self._new:
            self._accepted.setdefault(cap_identifier, at)
            self._new.notify_all()

    def all_accepted(self, alert_id: int, timeout: float) -> float | None:
        """When the last of the CBCs accepted the alert (time.time()); None if one had not within `timeout`."""
        wanted = [identifier(alert_id, peer.operator) for peer in self.peers]
        deadline = time.monotonic() + timeout
        with self._new:
            while not all(name in self._accepted for name in wanted):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._new.wait(remaining)
            return max(self._accepted[name] for name in wanted)

    def acceptances(self, alert_id: int) -> list[float]:
        """When each CBC that accepted the alert first did (time.time()), earliest first."""
        wanted = [identifier(alert_id, peer.operator) for peer in self.peers]
        with self._new:
            return sorted(self._accepted[name] for name in wanted if name in self._accepted)

    def called_back(self) -> bool:
        """Every message taken has had its status callbacks made (and answered or not)."""
        return all(len(peer.callbacks()) >= self.CALLBACKS_PER_MESSAGE * len(peer.received()) for peer in self.peers)


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used (those gone count nothing)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of proc(5)
    return ticks / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: p99 of 30 values is the largest, as it should be for so few."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-int(fraction * 1000) * len(ordered) // 1000)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A Markdown table, so a summary can go straight into docs/BENCHMARKS.md."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
