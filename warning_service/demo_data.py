"""The demo data set behind `flask seed demo`: agencies, users, targets, synthetic recipients.

Everything here is fictitious and marked as demo. Phone numbers and BeiDou
card addresses come from counters through fixed bijections, so they are unique
and the same on every run; --seed only shapes how recipients are spread over
counties, languages and channels. Running the seed again adds only what is
missing, so it also tops up the recipients to a larger --recipients.
"""
from __future__ import annotations

import bisect
import re
import secrets
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from .intake.limits import IntakeLimits
from .models import (
    ALL_HAZARDS,
    Agency,
    AgencyKind,
    AgencySender,
    BeidouTerminal,
    BroadcastEndpoint,
    CbcOperator,
    County,
    NamedArea,
    Recipient,
    Role,
    User,
    utcnow,
)
from .reference_data import DATA_DIR
from .services.cbc_operators import add_operator
from .services.named_areas import add_named_area


@dataclass(frozen=True)
class DemoAgency:
    name: str
    kind: AgencyKind
    hazards: tuple[str, ...]
    auto_publish: bool = False
    # Further CAP senders besides KIND.demo@ews.example, its first and default.
    more_senders: tuple[str, ...] = ()

    @property
    def cap_senders(self) -> list[str]:
        return [f"{self.kind.value}.demo@ews.example", *self.more_senders]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    password: str  # demo only: printed on purpose, never use outside a demo
    totp_secret: str | None = None  # demo only, printed too: enrolled in the second factor from the start

    def login_line(self) -> str:
        """How a tester signs in as this user (printed by `seed demo` and `demo serve`)."""
        line = f"  {self.username} / {self.password}  ({self.role.value})"
        if self.totp_secret:
            line += (f"\n    TOTP secret {self.totp_secret}; code now: .venv/bin/python -c "
                     f"\"import pyotp; print(pyotp.TOTP('{self.totp_secret}').now())\"")
        return line


DEMO_AGENCIES: tuple[DemoAgency, ...] = (
    # Earthquake early warning cannot wait for a duty officer.
    DemoAgency("四川省地震局 (demo)", AgencyKind.SEISMIC,
               ("earthquake", "earthquake_early_warning", "aftershock"), auto_publish=True,
               more_senders=("eew.seismic.demo@ews.example",)),
    DemoAgency("四川省地质环境监测总站 (demo)", AgencyKind.GEOLOGY,
               ("landslide", "debris_flow", "rockfall", "geohazard_risk")),
    DemoAgency("四川省气象台 (demo)", AgencyKind.WEATHER,
               ("rainstorm", "snowstorm", "cold_wave", "gale", "hail", "lightning", "frost", "fog",
                "road_icing", "heat", "drought", "geohazard_risk")),
    DemoAgency("四川省林业和草原局 (demo)", AgencyKind.FORESTRY, ("forest_fire", "grassland_fire")),
    DemoAgency("四川省水文水资源勘测中心 (demo)", AgencyKind.HYDROLOGY,
               ("flood", "flash_flood", "glacial_lake_outburst", "reservoir_discharge")),
    DemoAgency("四川省文化和旅游厅 (demo)", AgencyKind.TOURISM, ("scenic_crowding", "road_closure")),
    DemoAgency("四川省应急管理厅 (demo)", AgencyKind.OTHER, (ALL_HAZARDS,)),
)
DEMO_SEISMIC_AGENCY = DEMO_AGENCIES[0]
DEMO_WEATHER_AGENCY = DEMO_AGENCIES[2]
# The agencies `demo serve` prints keys for, with the shell variable the README's examples read each from:
# one whose alerts a duty officer reviews, one that publishes at once.
DEMO_KEY_AGENCIES: tuple[tuple[str, DemoAgency], ...] = (
    ("WEATHER_KEY", DEMO_WEATHER_AGENCY), ("SEISMIC_KEY", DEMO_SEISMIC_AGENCY))

# Red alerts need two duty officers, hence demo-officer2; a Tibetan proposal needs a second translator to
# approve it, hence two translators.
# Those who can publish come enrolled in the second factor (TOTP), with these demo-only secrets.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("demo-admin", Role.ADMIN, "demo-admin-pass", "DEMOADMINTOTPSECRETXXXXXXXXXXXXX"),
    DemoUser("demo-officer", Role.DUTY_OFFICER, "demo-officer-pass", "DEMOOFFICERTOTPSECRETXXXXXXXXXXX"),
    DemoUser("demo-officer2", Role.DUTY_OFFICER, "demo-officer2-pass", "DEMOOFFICERTWOTOTPSECRETXXXXXXXX"),
    DemoUser("demo-auditor", Role.AUDITOR, "demo-auditor-pass"),
    DemoUser("demo-translator", Role.TRANSLATOR, "demo-translator-pass"),
    DemoUser("demo-translator2", Role.TRANSLATOR, "demo-translator2-pass"),
)

# Rough resident populations (order of the 2020 census, rounded). They only
# weight the synthetic recipients; do not quote them.
COUNTY_POPULATION: dict[str, int] = {
    # Ngawa
    "513201": 58_000, "513221": 93_000, "513222": 44_000, "513223": 104_000,
    "513224": 72_000, "513225": 68_000, "513226": 64_000, "513227": 72_000,
    "513228": 54_000, "513230": 42_000, "513231": 79_000, "513232": 79_000,
    "513233": 49_000,
    # Garzê
    "513301": 131_000, "513322": 86_000, "513323": 55_000, "513324": 59_000,
    "513325": 51_000, "513326": 61_000, "513327": 49_000, "513328": 72_000,
    "513329": 52_000, "513330": 90_000, "513331": 58_000, "513332": 105_000,
    "513333": 60_000, "513334": 75_000, "513335": 53_000, "513336": 33_000,
    "513337": 33_000, "513338": 27_000,
}
DEMO_COUNTIES: tuple[str, ...] = tuple(sorted(COUNTY_POPULATION))

# Wenchuan, Li, Mao (Qiang and Han) and Luding (Han) mostly read Chinese;
# elsewhere most people prefer Tibetan. Weights per LANGUAGE_CHOICES order.
MOSTLY_CHINESE_COUNTIES = frozenset({"513221", "513222", "513223", "513322"})
LANGUAGE_WEIGHTS_TIBETAN = {"bo": 35, "zh": 15, "bo,zh": 35, "zh,bo": 15}
LANGUAGE_WEIGHTS_CHINESE = {"bo": 10, "zh": 60, "bo,zh": 10, "zh,bo": 20}
EXERCISE_PER_MILLE = 20  # recipients who also get Exercise/Test alerts
BEIDOU_PER_MILLE = 60  # recipients also reached through a BeiDou terminal

# The demo phone range: +86 199 and eight digits from a counter.
DEMO_PHONE_PREFIX = "+86199"
_PHONE_SPACE = 10**8
_PHONE_STEP = 37_139_213  # coprime with 10**8, so the counter maps to distinct numbers
_PHONE_OFFSET = 4_711_017

TERMINALS_PER_COUNTY = 4  # #0 a village group address, #1-2 household cards, #3 an exercise card
_CARD_SPACE = 9_000_000
_CARD_STEP = 611_953  # coprime with 9,000,000: distinct 7-digit addresses

DEMO_BROADCAST_BASE = "http://127.0.0.1:8701/ebm"
# The three operators' Cell Broadcast Centres, played by the CBC peers of `demo serve` (peers/cbc_peer.py):
# each a primary and a failover port, from DEMO_CBC_FIRST_PORT on, in this order.
DEMO_CBC_OPERATORS: tuple[tuple[str, str], ...] = (("cmcc", "中国移动 (demo)"), ("cucc", "中国联通 (demo)"),
                                                   ("ctcc", "中国电信 (demo)"))
DEMO_CBC_FIRST_PORT = 8704
DEMO_CBC_MAX_VERTICES = 100
# A demo endpoint's URL: the loopback broadcast peer, at whatever port `demo serve` gave it.
DEMO_ENDPOINT_URL = re.compile(r"http://127\.0\.0\.1:\d+/ebm/(?P<platform>\d{6}(?:/exercise)?)")
EXERCISE_ENDPOINT_COUNTIES = ("513201", "513301")  # Barkam and Kangding, the prefecture seats

RECIPIENT_CHUNK = 10_000
SCENIC_AREAS = DATA_DIR / "scenic_areas.toml"


def demo_phone(index: int) -> str:
    if not 0 <= index < _PHONE_SPACE:
        raise ValueError(f"demo recipient index {index} outside 0..{_PHONE_SPACE - 1}")
    return f"{DEMO_PHONE_PREFIX}{(index * _PHONE_STEP + _PHONE_OFFSET) % _PHONE_SPACE:08d}"


def demo_card_address(index: int) -> str:
    return f"{1_000_000 + (index * _CARD_STEP) % _CARD_SPACE:07d}"


def _mix(seed: int, index: int) -> int:
    """SplitMix64 of (seed, index): cheap, well-spread bits, the same for the same pair."""
    mask = 0xFFFFFFFFFFFFFFFF
    z = (seed * 0x9E3779B97F4A7C15 + (index + 1) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def _cumulative(weights: list[int]) -> list[int]:
    total, out = 0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


_COUNTY_CUMULATIVE = _cumulative([COUNTY_POPULATION[code] for code in DEMO_COUNTIES])
_LANGUAGES = tuple(LANGUAGE_WEIGHTS_TIBETAN)
_LANGUAGE_CUMULATIVE = {
    False: _cumulative(list(LANGUAGE_WEIGHTS_TIBETAN.values())),
    True: _cumulative([LANGUAGE_WEIGHTS_CHINESE[lang] for lang in _LANGUAGES]),
}


@dataclass(frozen=True)
class CountyTerminals:
    """Terminal ids a county's recipients can be linked to."""

    household: tuple[int, ...]
    exercise: int | None


def recipient_row(index: int, seed: int, terminals: dict[str, CountyTerminals], now: datetime) -> dict:
    """The demo recipient number `index`, as a row for a Core insert.

    The first 31 go one to each county, so every county has someone; the rest
    follow the population weights.
    """
    bits = _mix(seed, index)
    if index < len(DEMO_COUNTIES):
        county = DEMO_COUNTIES[index]
    else:
        point = (bits & 0xFFFFFFFF) * _COUNTY_CUMULATIVE[-1] >> 32
        county = DEMO_COUNTIES[bisect.bisect_right(_COUNTY_CUMULATIVE, point)]
    language_cumulative = _LANGUAGE_CUMULATIVE[county in MOSTLY_CHINESE_COUNTIES]
    point = ((bits >> 32) & 0xFFF) * language_cumulative[-1] >> 12
    languages = _LANGUAGES[bisect.bisect_right(language_cumulative, point)]
    exercise = ((bits >> 44) & 0x3FF) * 1000 >> 10 < EXERCISE_PER_MILLE
    beidou = ((bits >> 54) & 0x3FF) * 1000 >> 10 < BEIDOU_PER_MILLE
    terminal_id = None
    if beidou:
        cards = terminals[county]
        terminal_id = cards.exercise if exercise else cards.household[index % len(cards.household)]
    return {
        "phone": demo_phone(index),
        "languages": languages,
        "county_code": county,
        "township_code": None,
        "channels": ["sms", "beidou"] if terminal_id is not None else ["sms"],
        "beidou_terminal_id": terminal_id,
        "exercise": exercise,
        "active": True,
        "created_at": now,
    }


def recipient_chunks(start: int, stop: int, seed: int, terminals: dict[str, CountyTerminals],
                     chunk_size: int = RECIPIENT_CHUNK) -> Iterator[list[dict]]:
    """Rows for demo recipients start..stop-1, one list per chunk; only one chunk is in memory."""
    for chunk_start in range(start, stop, chunk_size):
        now = utcnow()
        yield [recipient_row(i, seed, terminals, now) for i in range(chunk_start, min(chunk_start + chunk_size, stop))]


def missing_counties(session: Session) -> list[str]:
    present = set(session.scalars(select(County.code)))
    return [code for code in DEMO_COUNTIES if code not in present]


def ensure_agencies(session: Session) -> int:
    """Add the demo agencies that are missing (by name); returns how many were added. A sender another
    agency already holds is left to it (a sender is one agency's alone); one left without is given a made-up one."""
    existing = set(session.scalars(select(Agency.name)))
    held = set(session.scalars(select(AgencySender.sender)))
    added = 0
    for spec in DEMO_AGENCIES:
        if spec.name in existing:
            continue
        senders = [sender for sender in spec.cap_senders if sender not in held]
        session.add(Agency(name=spec.name, kind=spec.kind, hazards=list(spec.hazards), auto_publish=spec.auto_publish,
                           cap_senders=senders or [f"{spec.kind.value}.{secrets.token_hex(4)}@agencies.ews.local"]))
        added += 1
    session.flush()
    return added


def ensure_users(session: Session) -> int:
    """Add the demo users that are missing. Existing ones keep their password and role."""
    existing = set(session.scalars(select(User.username)))
    added = 0
    for spec in DEMO_USERS:
        if spec.username in existing:
            continue
        user = User(username=spec.username, role=spec.role)
        user.set_password(spec.password)
        if spec.totp_secret:
            user.mfa_secret, user.mfa_enrolled_at = spec.totp_secret, utcnow()
        session.add(user)
        added += 1
    session.flush()
    return added


def ensure_broadcast_endpoints(session: Session) -> int:
    """One endpoint per county, plus exercise endpoints for the two prefecture seats."""
    names = {county.code: county.name_zh for county in session.scalars(select(County))}
    # By platform, whatever port `point_demo_endpoints` aimed them at since.
    existing = {match["platform"] for url in session.scalars(select(BroadcastEndpoint.url))
                if (match := DEMO_ENDPOINT_URL.fullmatch(url))}
    wanted = [(code, False) for code in DEMO_COUNTIES] + [(code, True) for code in EXERCISE_ENDPOINT_COUNTIES]
    added = 0
    for code, exercise in wanted:
        platform = code + ("/exercise" if exercise else "")
        if platform in existing:
            continue
        url = f"{DEMO_BROADCAST_BASE}/{platform}"
        label = "应急广播演练平台" if exercise else "应急广播平台"
        session.add(BroadcastEndpoint(county_code=code, name=f"{names[code]}{label} (demo)", url=url,
                                      secret=secrets.token_urlsafe(32), exercise=exercise))
        added += 1
    session.flush()
    return added


def point_demo_endpoints(session: Session, broadcast_base: str) -> dict[str, str]:
    """Aim the demo broadcast endpoints at the broadcast peer at `broadcast_base` (…/ebm).

    Returns each demo platform's secret by platform name ("513301", "513301/exercise"),
    which the peer needs to verify the signatures. Endpoints added by hand are left alone.
    """
    secrets_by_platform = {}
    for endpoint in session.scalars(select(BroadcastEndpoint)):
        match = DEMO_ENDPOINT_URL.fullmatch(endpoint.url)
        if match:
            endpoint.url = f"{broadcast_base}/{match['platform']}"
            secrets_by_platform[match["platform"]] = endpoint.secret
    session.flush()
    return secrets_by_platform


def demo_cbc_urls(first_port: int, index: int) -> tuple[str, str]:
    """The primary and failover URLs of the `index`th demo operator's CBC peer."""
    port = first_port + 2 * index
    return f"http://127.0.0.1:{port}/cap", f"http://127.0.0.1:{port + 1}/cap"


def ensure_cbc_operators(session: Session) -> int:
    """The three operators' CBCs (real, not exercise), through the registry and into the ledger."""
    existing = set(session.scalars(select(CbcOperator.code)))
    added = 0
    for index, (code, name) in enumerate(DEMO_CBC_OPERATORS):
        if code in existing:
            continue
        url, failover_url = demo_cbc_urls(DEMO_CBC_FIRST_PORT, index)
        add_operator(session, None, "seed", code=code, name=name, url=url, failover_url=failover_url,
                     token=secrets.token_urlsafe(32), callback_secret=secrets.token_urlsafe(32),
                     max_vertices=DEMO_CBC_MAX_VERTICES)
        added += 1
    session.flush()
    return added


def point_demo_cbc(session: Session, first_port: int) -> dict[str, dict]:
    """Aim the demo operators' CBCs at the CBC peers from `first_port` on; returns what each peer needs
    (its ports, token, callback secret, vertex limit and exercise mark) by operator code."""
    peers = {}
    demo = {code: index for index, (code, _) in enumerate(DEMO_CBC_OPERATORS)}
    for operator in session.scalars(select(CbcOperator).where(CbcOperator.code.in_(demo))):
        index = demo[operator.code]
        operator.url, operator.failover_url = demo_cbc_urls(first_port, index)
        peers[operator.code] = {"ports": {"primary": first_port + 2 * index, "failover": first_port + 2 * index + 1},
                                "token": operator.token, "callback_secret": operator.callback_secret,
                                "max_vertices": operator.max_vertices, "exercise": operator.exercise}
    session.flush()
    return peers


def ensure_beidou_terminals(session: Session) -> int:
    """A few terminals per county with fixed card addresses; returns how many were added."""
    names = {county.code: county.name_zh for county in session.scalars(select(County))}
    existing = set(session.scalars(select(BeidouTerminal.card_address)))
    added = 0
    for county_index, code in enumerate(DEMO_COUNTIES):
        for slot in range(TERMINALS_PER_COUNTY):
            address = demo_card_address(county_index * TERMINALS_PER_COUNTY + slot)
            if address in existing:
                continue
            if slot == 0:
                name, is_group, exercise = f"{names[code]}村组广播 (demo)", True, False
            elif slot == TERMINALS_PER_COUNTY - 1:
                name, is_group, exercise = f"{names[code]}演练终端 (demo)", False, True
            else:
                name, is_group, exercise = f"{names[code]}牧户终端 {slot} (demo)", False, False
            session.add(BeidouTerminal(card_address=address, county_code=code, name=name,
                                       is_group=is_group, exercise=exercise))
            added += 1
    session.flush()
    return added


def scenic_areas() -> list[dict]:
    """The seed plan's scenic areas (data/scenic_areas.toml): each a circle around a published centre,
    with its source, accuracy and the county the centre lies in."""
    with open(SCENIC_AREAS, "rb") as handle:
        return tomllib.load(handle)["area"]


def ensure_named_areas(session: Session, limits: IntakeLimits) -> int:
    """Register the scenic areas not registered yet (by code), through the registry and into the ledger."""
    existing = set(session.scalars(select(NamedArea.code)))
    added = 0
    for spec in scenic_areas():
        if spec["code"] in existing:
            continue
        add_named_area(session, None, "seed", code=spec["code"], name_zh=spec["name_zh"], name_en=spec["name_en"],
                       name_bo=spec.get("name_bo"), source=spec["source"], accuracy=spec["accuracy"], limits=limits,
                       centre=(spec["lat"], spec["lon"]), radius_km=spec["radius_km"])
        added += 1
    return added


def demo_terminals(session: Session) -> dict[str, CountyTerminals]:
    """The demo terminals recipients may be linked to, by county."""
    addresses = {demo_card_address(i) for i in range(len(DEMO_COUNTIES) * TERMINALS_PER_COUNTY)}
    household: dict[str, list[int]] = {code: [] for code in DEMO_COUNTIES}
    exercise: dict[str, int] = {}
    rows = session.execute(select(BeidouTerminal.id, BeidouTerminal.county_code, BeidouTerminal.card_address,
                                  BeidouTerminal.is_group, BeidouTerminal.exercise).order_by(BeidouTerminal.id))
    for terminal_id, county, address, is_group, is_exercise in rows:
        if address not in addresses or is_group:
            continue
        if is_exercise:
            exercise.setdefault(county, terminal_id)
        else:
            household[county].append(terminal_id)
    return {code: CountyTerminals(tuple(household[code]), exercise.get(code)) for code in DEMO_COUNTIES}


def demo_recipient_count(session: Session) -> int:
    """Recipients in the demo phone range (+86199…), which the seed treats as its own."""
    return session.scalar(select(func.count()).select_from(Recipient)
                          .where(Recipient.phone.startswith(DEMO_PHONE_PREFIX, autoescape=True)))


def add_recipients(session: Session, target: int, seed: int,
                   progress: Callable[[int, int], None] | None = None) -> int:
    """Top the demo recipients up to `target`, committing chunk by chunk; returns how many were added.

    Core inserts of plain dicts: the benchmarks seed close to two million rows.
    Needs the demo BeiDou terminals (ensure_beidou_terminals) in place.
    """
    start = demo_recipient_count(session)
    if start >= target:
        return 0
    terminals = demo_terminals(session)
    done = start
    for rows in recipient_chunks(start, target, seed, terminals):
        session.execute(insert(Recipient.__table__), rows)
        session.commit()
        done += len(rows)
        if progress:
            progress(done, target)
    return target - start
