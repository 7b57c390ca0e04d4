"""Deny-by-default access, session timeouts and revocation, security headers, the request transaction."""

from __future__ import annotations

import hmac
import time
import uuid
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import Flask, Response, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ebo.extensions import db, login_manager
from ebo.models import User
from ebo.services import audit

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def public(view):
    """Mark a view as reachable without login (the explicit public list)."""
    view.is_public = True
    return view


def public_endpoints(app: Flask) -> set[str]:
    """The endpoints that answer without login."""
    names = {"static"}
    names.update(ep for ep, fn in app.view_functions.items() if getattr(fn, "is_public", False))
    return names


def is_safe_next(target: str | None) -> bool:
    """True only for a local path (`/x...`): never `//host`, `/\\host`, a scheme, or an encoded form of these."""
    if not target or len(target) > 2000:
        return False
    candidates = [target]
    decoded = target
    for _ in range(3):  # nested percent-encoding
        decoded = unquote(decoded)
        candidates.append(decoded)
    for c in candidates:
        if any(ord(ch) < 32 or ch == "\x7f" for ch in c) or "\\" in c:
            return False
        if not c.startswith("/") or c.startswith("//"):
            return False
        parts = urlsplit(c)
        if parts.scheme or parts.netloc:
            return False
    return True


def safe_next(default_endpoint: str = "main.home") -> str:
    """The `next` parameter if it is a local path, else the default page."""
    target = request.values.get("next")
    return target if is_safe_next(target) else url_for(default_endpoint)


@login_manager.user_loader
def _load_user(user_id: str):

    raw_id, _, token = user_id.partition(":")
    try:
        uid = uuid.UUID(raw_id)
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or not token or not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def init_app(app: Flask) -> None:
    """Install the access gate, headers, error pages and the per-request transaction."""
    if app.config.get("PROXY_FIX_X_FOR"):
        n = int(app.config["PROXY_FIX_X_FOR"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see that page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.before_request
    def _refuse_nul():
        # NUL never belongs in typed text, and PostgreSQL cannot store it: refuse it up front.
        if any("\x00" in v for v in request.args.values()) or (
                request.method in ("POST", "PUT", "PATCH")
                and any("\x00" in v for v in request.form.values())):
            abort(400)
        return None

    @app.before_request
    def _gate():
        endpoint = request.endpoint
        if endpoint is None:
            return None  # 404 or 405 follows
        view = app.view_functions.get(endpoint)
        if endpoint == "static" or getattr(view, "is_public", False):
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        now = time.time()
        idle = app.config["SESSION_IDLE_MINUTES"] * 60
        absolute = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
        last_seen = session.get("last_seen", now)
        login_at = session.get("login_at", now)
        if now - last_seen > idle or now - login_at > absolute:
            logout_user()
            session.clear()
            flash(_l("Your session has ended. Please log in again."), "info")
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        session["last_seen"] = now
        return None

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=(), payment=()")
        if app.config["ENV_NAME"] == "production":
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static":
            h["Cache-Control"] = "no-store"
            h["Pragma"] = "no-cache"
        return response

    @app.after_request
    def _commit(response):
        # One transaction per request: services flush, the request commits (or rolls back on a 5xx).
        if response.status_code >= 500:
            _rollback_quietly()
        else:
            try:
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
        return response

    @app.teardown_request
    def _rollback(exc):
        if exc is not None:
            _rollback_quietly()

    @app.errorhandler(CSRFError)
    def _csrf_error(e):
        return render_template("error.html", code=400,
                               message=_l("The form had expired or was sent from elsewhere. "
                                          "Please go back, reload the page and try again.")), 400

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException):
        if e.code == 403:
            audit.record("authz_denied", "endpoint", request.endpoint or request.path[:64])
        if e.code == 429:  # throttled (a login or a registration): who tried is in the event's address
            audit.record("throttled", "endpoint", request.endpoint or request.path[:64])
        messages = {
            400: _l("The request could not be understood."),
            403: _l("You do not have access to this page."),
            404: _l("The page could not be found."),
            405: _l("That action is not allowed here."),
            413: _l("The file or form is too large."),
            429: _l("Too many attempts. Please wait a minute and try again."),
        }
        return render_template("error.html", code=e.code,
                               message=messages.get(e.code, e.description)), e.code

    @app.errorhandler(Exception)
    def _server_error(e: Exception):
        if isinstance(e, HTTPException):
            return _http_error(e)
        _rollback_quietly()
        app.logger.exception("Unhandled error on %s", request.path)
        message = _l("Something went wrong on our side. Nothing was saved. Please try again later.")
        if isinstance(e, sa.exc.DBAPIError | sa.exc.DisconnectionError):
            # The database is gone: the page must not ask it who is logged in (that would fail again
            # and leave the server's bare error page, without our headers).
            g._login_user = login_manager.anonymous_user()
        try:
            return render_template("error.html", code=500, message=message), 500
        except Exception:  # the page itself needs something that is down: plain text, same headers
            app.logger.exception("The error page could not be drawn on %s", request.path)
            return Response(_PLAIN_ERROR, status=500, mimetype="text/html")


def _rollback_quietly() -> None:
    """Roll the request's session back; a lost database connection must not raise again here."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is already gone; nothing to undo
        current_app.logger.warning("rollback failed after an error", exc_info=True)


_PLAIN_ERROR = ("<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>Fel 500</title></head>"
                "<body><h1>Något gick fel hos oss. Inget sparades. Försök igen senare.</h1>"
                "<p lang=\"en\">Something went wrong on our side. Nothing was saved. Please try again later.</p>"
                "</body></html>")
