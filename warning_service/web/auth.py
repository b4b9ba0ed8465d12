"""Console sign-in: Flask-Login sessions, the second factor, role checks, and failed logins slowed down.

A session ends after CONSOLE_IDLE_MINUTES without a request (the cookie is
permanent and refreshed on each request, so its lifetime is the idle time). The
pages' background polling (`passive` views) does not count as activity: an inbox
left open overnight still signs its officer out.
The session's user id is "<id>:<session_version>" and is checked on every request:
signing out, a new password, a new role, deactivation and a second-factor reset raise
the version (security/accounts.py), so every session of that user ends at once, even
a cookie copied elsewhere. Signing in starts a new session (and so a new CSRF token).
A user enrolled in the second factor, or one who must enrol (MFA_REQUIRED, duty officers
and admins), is only half signed in after the password: the session names them under
PENDING, which no other route accepts, until a code (or a recovery code) is given or the
enrolment confirmed. Wrong codes count as wrong passwords.
After LOGIN_MAX_FAILURES wrong passwords for one username the login is locked
for LOGIN_LOCKOUT_SECONDS, counted in Redis so every web process sees it; after
LOGIN_MAX_FAILURES_PER_ADDRESS from one client address (many usernames tried),
that address is locked out for as long.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh as refresh_locale
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from ..audit.events import record
from ..extensions import db, redis_client
from ..models import Role, User
from ..security import accounts, mfa
from .forms import ConsoleForm
from .i18n import CODES, SESSION_LANGUAGE

auth = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"
login_manager.login_message = None  # the sign-in page says enough


class LoginForm(ConsoleForm):
    # No control characters: a NUL cannot even be looked up in PostgreSQL (it answered 500).
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80), Regexp(r"^[^\x00-\x1f\x7f]*$")])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class CodeForm(ConsoleForm):
    """A six-digit TOTP code, or one of the recovery codes."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40), Regexp(r"^[0-9a-zA-Z \-]*$")])


class IdleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a passive request never renews the cookie."""

    def should_set_cookie(self, app: Flask, session) -> bool:
        return not g.get("passive_request") and super().should_set_cookie(app, session)


def passive(view: Callable) -> Callable:
    """A view the page calls by itself (polling): answering it does not push the idle deadline back."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.passive_request = True
        return view(*args, **kwargs)

    return wrapper


def idle_lifetime(config) -> timedelta:
    return timedelta(minutes=float(config["CONSOLE_IDLE_MINUTES"]))


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    app.config["PERMANENT_SESSION_LIFETIME"] = idle_lifetime(app.config)
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    app.session_interface = IdleSessionInterface()


PENDING = "half_signed_in"  # session key: the user id of someone past the password step only


def _user_for_id(user_id: str) -> User | None:
    """The active user a session's "<id>:<session_version>" names, if that version is still current."""
    number, _, version = user_id.partition(":")
    user = db.session.get(User, int(number)) if number.isdigit() else None
    if user is None or not user.active or version != str(user.session_version):
        return None
    return user


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return _user_for_id(user_id)


def pending_user() -> User | None:
    """The user half signed in on this session (password given, second factor not yet)."""
    user_id = session.get(PENDING)
    return _user_for_id(user_id) if isinstance(user_id, str) else None


def home_url(user: User) -> str:
    """Where a user lands after signing in: translators at their desk, everyone else at the inbox."""
    return url_for("desk.queue") if user.role == Role.TRANSLATOR else url_for("console.inbox")


def roles_required(*roles: Role) -> Callable:
    """Signed in, and with one of `roles`: otherwise to the login page, or 403."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403, _("Your role may not do this."))
            return view(*args, **kwargs)

        wrapper.roles = frozenset(roles)  # read by the route-by-role test
        return wrapper

    return decorate


def _failures_key(username: str) -> str:
    return f"ews:login-failures:{username.lower()}"


def _address_failures_key(address: str | None) -> str:
    return f"ews:login-failures-from:{address or 'unknown'}"


def _locked_for(username: str) -> int | None:
    """Seconds until this username, or this client address, may try again; None when not locked."""
    key, address_key = _failures_key(username), _address_failures_key(request.remote_addr)
    connection = redis_client()
    config = current_app.config
    user_failures, address_failures = connection.mget(key, address_key)
    if int(user_failures or 0) >= int(config["LOGIN_MAX_FAILURES"]) or \
            int(address_failures or 0) >= int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        return max(connection.ttl(key), connection.ttl(address_key), 1)
    return None


def _count_failure(username: str) -> None:
    key, address_key = _failures_key(username), _address_failures_key(request.remote_addr)
    lockout = int(current_app.config["LOGIN_LOCKOUT_SECONDS"])
    with redis_client().pipeline() as pipe:
        pipe.incr(key).expire(key, lockout).incr(address_key).expire(address_key, lockout).execute()


def _too_many(form: FlaskForm, seconds: int):
    return render_template("console/login.html", form=form,
                           error=_("Too many failed sign-ins. Try again in %(seconds)d s.", seconds=seconds)), 429


def _new_session() -> None:
    """Forget everything the session held (a fixated session id, the old CSRF token) before signing in."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the token for this request too


def _complete_sign_in(user: User, **detail) -> None:
    """Sign the user in fully on this session, with its ledger entry; commits."""
    session.pop(PENDING, None)
    session.permanent = True
    login_user(user)
    redis_client().delete(_failures_key(user.username))
    record(db.session, user, "user.login", user, address=request.remote_addr, **detail)
    db.session.commit()


@auth.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        seconds = _locked_for(form.username.data)
        if seconds is not None:
            return _too_many(form, seconds)
        user, accepted = accounts.authenticate(db.session, form.username.data, form.password.data)
        if not accepted:
            _count_failure(form.username.data)
            record(db.session, user, "user.login_failed", user, username=form.username.data[:80],
                   address=request.remote_addr)
            db.session.commit()
            return render_template("console/login.html", form=form, error=_("Wrong username or password.")), 401
        _new_session()
        if user.mfa_enrolled or mfa.must_enrol(user, current_app.config["MFA_REQUIRED"]):
            session[PENDING] = user.get_id()
            return redirect(url_for("auth.second_factor" if user.mfa_enrolled else "auth.enrol"))
        _complete_sign_in(user)
        return redirect(home_url(user))
    status = 400 if request.method == "POST" else 200
    return render_template("console/login.html", form=form, error=None if status == 200 else _("Fill in both fields.")), status


@auth.route("/login/code", methods=["GET", "POST"])
def second_factor():
    """The second step of signing in: a code from the authenticator app, or a recovery code."""
    user = pending_user()
    if user is None or not user.mfa_enrolled:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("console/second_factor.html", form=form,
                               error=_("Enter the code.") if status == 400 else None), status
    seconds = _locked_for(user.username)
    if seconds is not None:
        session.pop(PENDING, None)
        return _too_many(LoginForm(formdata=None), seconds)
    code = form.code.data
    if mfa.check_code(user, code):
        _complete_sign_in(user, second_factor="totp")
    elif len(code.strip()) > 6 and mfa.use_recovery_code(db.session, user, code):
        _complete_sign_in(user, second_factor="recovery code")
    else:
        _count_failure(user.username)
        record(db.session, user, "user.mfa_failed", user, address=request.remote_addr)
        db.session.commit()
        return render_template("console/second_factor.html", form=form,
                               error=_("Wrong or already used code.")), 401
    return redirect(home_url(user))


@auth.route("/mfa/enrol", methods=["GET", "POST"])
def enrol():
    """Enrol in the second factor: signed in (anyone may), or half signed in (those who must, first)."""
    signed_in = current_user.is_authenticated
    user = current_user._get_current_object() if signed_in else pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if user.mfa_enrolled:
        return redirect(url_for("console.inbox") if signed_in else url_for("auth.second_factor"))
    secret = mfa.start_enrolment(user)
    db.session.commit()
    form = CodeForm()
    if form.validate_on_submit():
        codes = mfa.confirm_enrolment(db.session, user, form.code.data, "console")
        if codes is not None:
            if signed_in:
                db.session.commit()
            else:
                _complete_sign_in(user, second_factor="enrolment")
            return render_template("console/recovery_codes.html", codes=codes), 200, {"Cache-Control": "no-store"}
        _count_failure(user.username)
        record(db.session, user, "user.mfa_failed", user, address=request.remote_addr, enrolling=True)
        db.session.commit()
    status = 200 if not form.is_submitted() else 422
    return render_template("console/enrol.html", form=form, secret=secret,
                           qr=mfa.qr_svg(mfa.provisioning_uri(user)),
                           error=_("Wrong code: check the phone's clock and try the next one.") if status == 422 else None
                           ), status, {"Cache-Control": "no-store"}


@auth.post("/login/language")
def set_login_language():
    """The sign-in page in the reader's language: there is no user yet to keep the choice on, so the session does."""
    language = request.form.get("language", "")
    if language not in CODES:
        abort(400, _("Unknown interface language: choose one the page offers."))
    session[SESSION_LANGUAGE] = language
    refresh_locale()  # the choice holds from this response on
    return redirect(url_for("auth.login"), 303)


@auth.post("/logout")
@login_required
def logout():
    """Sign out here and everywhere else: the user's every session ends with this one."""
    user = current_user._get_current_object()
    accounts.end_sessions(user)
    record(db.session, user, "user.logout", user)
    db.session.commit()
    logout_user()
    flash(_("Signed out, on every device."), "ok")
    return redirect(url_for("auth.login"))
