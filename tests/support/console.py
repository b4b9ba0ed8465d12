"""The console in tests: people of each role (duty officers and admins enrolled in the second factor, as
MFA_REQUIRED wants), a browser-like client that carries CSRF tokens and signs in with password and TOTP
code, alerts waiting for review, and the routes a role may reach."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pyotp
from flask import g
from flask_babel import refresh
from sqlalchemy import select

from tests.support import dispatch
from warning_service.extensions import db
from warning_service.models import Alert, AlertState, CapStatus, County, Level, MsgType, Role, User, utcnow
from warning_service.rendering.formatting import LOCAL_TIME
from warning_service.security import mfa

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def expiry_in(hours: int = 6) -> tuple[str, datetime]:
    """An expiry `hours` from now, as an officer types it (Beijing time, to the minute) and as stored (UTC).

    Computed from the clock, never a calendar date: the suite also runs with the clock moved ahead.
    """
    local = (datetime.now(LOCAL_TIME) + timedelta(hours=hours)).replace(second=0, microsecond=0)
    return local.strftime("%Y-%m-%dT%H:%M"), local.astimezone(UTC)


def make_user(name: str, role: Role, enrolled: bool | None = None) -> User:
    """A user with PASSWORD; enrolled in the second factor by default when their role must be."""
    user = User(username=name, role=role)
    user.set_password(PASSWORD)
    if enrolled if enrolled is not None else role in mfa.MFA_REQUIRED_ROLES:
        user.mfa_secret, user.mfa_enrolled_at = pyotp.random_base32(), utcnow()
    db.session.add(user)
    db.session.commit()
    return user


def fresh_code(name: str) -> str:
    """The user's TOTP code now. The replay guard would refuse the same step twice, and tests sign the
    same person in more than once in 30 s, so the guard's memory is wiped first (tests/abuse tests it)."""
    user = db.session.scalar(select(User).where(User.username == name))
    user.mfa_last_step = None
    db.session.commit()
    return pyotp.TOTP(user.mfa_secret).now()


def enrolled(name: str) -> bool:
    user = db.session.scalar(select(User).where(User.username == name))
    return user is not None and user.mfa_enrolled


def work(app) -> None:
    """Run the queued jobs as a worker would. The test's app context outlives its requests, so the
    signed-in user Flask-Login keeps in `g` is dropped too, as a new request would start without it."""
    dispatch.work(app)
    g.pop("_login_user", None)


def fresh_request() -> None:
    """The test's app context outlives requests: forget the user and token Flask-Login and Flask-WTF cached,
    the locale Flask-Babel chose and the desk's catalog entries the Tibetan interface read."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    g.pop("desk_catalog", None)
    refresh()


def csrf_token(client, path: str) -> str:
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, name: str, password: str = PASSWORD):
    """Password, then (when asked) the TOTP code; the answer of the last step taken."""
    response = client.post("/login", data={"username": name, "password": password,
                                           "csrf_token": csrf_token(client, "/login")})
    if response.status_code == 302 and response.headers["Location"].endswith("/login/code"):
        return client.post("/login/code", data={"code": fresh_code(name),
                                                "csrf_token": csrf_token(client, "/login/code")})
    return response


def post_form(client, path: str, page: str, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **fields})


def compose_fields(**fields) -> dict:
    """The compose form as an officer fills it: a yellow rainstorm for Kangding and Luding unless `fields`
    say otherwise (None leaves a field out)."""
    form = {"status": "Actual", "hazard": "rainstorm", "level": "yellow", "counties": ["513301", "513322"],
            "expires": expiry_in()[0], "headline": "康定市、泸定县暴雨黄色预警"}
    form.update(fields)
    return {name: value for name, value in form.items() if value is not None}


def compose(client, **fields):
    """Post the compose form (compose_fields) as a signed-in officer would."""
    return post_form(client, "/compose", "/compose", **compose_fields(**fields))


def waiting_alert(status=CapStatus.ACTUAL, level=Level.YELLOW, hazard="rainstorm") -> int:
    alert = Alert(identifier=f"C-{uuid.uuid4().hex[:8]}", sender="weather.demo@ews.example", sent=utcnow(),
                  status=status, msg_type=MsgType.ALERT, hazard_code=hazard, level=level,
                  expires=utcnow() + timedelta(hours=6), headline={"zh": "暴雨预警"}, original=b"{}",
                  original_format="json", state=AlertState.PENDING_REVIEW)
    alert.counties = [db.session.get(County, code) for code in ("513301", "513322")]
    db.session.add(alert)
    db.session.commit()
    return alert.id


def published_cancellation() -> Alert:
    """A Cancel message, published now: for the pages that must tell it from a new warning."""
    cancel = db.session.get(Alert, waiting_alert())
    cancel.msg_type, cancel.published_at = MsgType.CANCEL, utcnow()
    db.session.commit()
    return cancel


def state_of(alert_id: int) -> AlertState:
    db.session.expire_all()
    return db.session.get(Alert, alert_id).state


PUBLIC = {"auth.login", "auth.set_login_language", "static"}  # the routes anyone may reach


# A URL part that takes one of a few words, e.g. /admin/<any(broadcast, beidou):path>.
CHOICE = re.compile(r"<any\(([^)]*)\):\w+>")


def each_choice(rule: str) -> list[str]:
    """The rule once per word of its <any(...)> part, so a walk visits every page the rule serves."""
    choice = CHOICE.search(rule)
    if choice is None:
        return [rule]
    return [rule.replace(choice.group(0), word.strip()) for word in choice.group(1).split(",")]


def console_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of the console's and sign-in's routes, a rule with <any(...)> once per word."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("console", "auth", "admin", "admin_areas", "admin_cbc", "reports",
                                                 "desk") \
                and rule.endpoint not in PUBLIC:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.extend((rule.endpoint, method, concrete) for concrete in each_choice(rule.rule))
    return routes


def near_midnight_utc(days: int) -> datetime:
    """20:30 UTC `days` from today: before midnight UTC, after it in Beijing."""
    today = datetime.now(UTC).replace(hour=20, minute=30, second=0, microsecond=0)
    return today + timedelta(days=days)


def shown(moment: datetime) -> tuple[str, str]:
    """(Beijing, UTC) as minutes, the way a page would show either."""
    return (moment + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M"), moment.strftime("%Y-%m-%d %H:%M")
