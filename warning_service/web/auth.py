"""Console sign-in: Flask-Login sessions, role checks, and failed logins slowed down.

A session ends after CONSOLE_IDLE_MINUTES without a request (the cookie is
permanent and refreshed on each request, so its lifetime is the idle time). The
pages' background polling (`passive` views) does not count as activity: an inbox
left open overnight still signs its officer out.
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
from flask_babel import refresh as refresh_locale
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp
from sqlalchemy import select

from ..audit.events import record
from ..extensions import db, redis_client
from ..models import Role, User
from .i18n import CODES, SESSION_LANGUAGE

auth = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"
login_manager.login_message = None  # the sign-in page says enough


class LoginForm(FlaskForm):
    # No control characters: a NUL cannot even be looked up in PostgreSQL (it answered 500).
    username = StringField("username", validators=[DataRequired(), Length(max=80), Regexp(r"^[^\x00-\x1f\x7f]*$")])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


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


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def roles_required(*roles: Role) -> Callable:
    """Signed in, and with one of `roles`: otherwise to the login page, or 403."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403, "Your role may not do this.")
            return view(*args, **kwargs)

        wrapper.roles = frozenset(roles)  # read by the route-by-role test
        return wrapper

    return decorate


def _failures_key(username: str) -> str:
    return f"ews:login-failures:{username.lower()}"


def _address_failures_key(address: str | None) -> str:
    return f"ews:login-failures-from:{address or 'unknown'}"


@auth.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        key, address_key = _failures_key(form.username.data), _address_failures_key(request.remote_addr)
        connection = redis_client()
        config = current_app.config
        user_failures, address_failures = connection.mget(key, address_key)
        if int(user_failures or 0) >= int(config["LOGIN_MAX_FAILURES"]) or \
                int(address_failures or 0) >= int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
            seconds = max(connection.ttl(key), connection.ttl(address_key))
            return render_template("console/login.html", form=form,
                                   error=_("Too many failed sign-ins. Try again in %(seconds)d s.", seconds=max(seconds, 1))), 429
        user = db.session.scalar(select(User).where(User.username == form.username.data))
        if user is None or not user.active or not user.check_password(form.password.data):
            with connection.pipeline() as pipe:
                lockout = int(config["LOGIN_LOCKOUT_SECONDS"])
                pipe.incr(key).expire(key, lockout).incr(address_key).expire(address_key, lockout).execute()
            record(db.session, user, "user.login_failed", user, username=form.username.data[:80],
                   address=request.remote_addr)
            db.session.commit()
            return render_template("console/login.html", form=form, error=_("Wrong username or password.")), 401
        connection.delete(key)
        session.permanent = True
        login_user(user)
        record(db.session, user, "user.login", user, address=request.remote_addr)
        db.session.commit()
        return redirect(url_for("console.inbox"))
    status = 400 if request.method == "POST" else 200
    return render_template("console/login.html", form=form, error=None if status == 200 else _("Fill in both fields.")), status


@auth.post("/login/language")
def set_login_language():
    """The sign-in page in the reader's language: there is no user yet to keep the choice on, so the session does."""
    language = request.form.get("language", "")
    if language not in CODES:
        abort(400, f"Unknown language {language!r}; one of {', '.join(CODES)}.")
    session[SESSION_LANGUAGE] = language
    refresh_locale()  # the choice holds from this response on
    return redirect(url_for("auth.login"), 303)


@auth.post("/logout")
@login_required
def logout():
    record(db.session, current_user._get_current_object(), "user.logout", current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("Signed out."), "ok")
    return redirect(url_for("auth.login"))
