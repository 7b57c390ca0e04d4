"""Starting and ending a login session, the same way everywhere (login page, host registration, erasure)."""

from __future__ import annotations

import time

from flask import session
from flask_login import login_user, logout_user

from ebo.models.types import utcnow
from ebo.services import audit


def _clear_keeping_language() -> None:
    lang = session.get("lang")
    session.clear()  # nothing from before survives: no session fixation
    if lang:
        session["lang"] = lang


def start_session(user, via: str = "password") -> None:
    """Log `user` in on a fresh session with idle and absolute timestamps; audited as a login."""
    _clear_keeping_language()
    login_user(user, remember=False)
    session["login_at"] = session["last_seen"] = time.time()
    session.permanent = True
    user.last_login_at = utcnow()
    audit.record("login", "user", user.id, {"via": via} if via != "password" else None, actor=user)


def end_session() -> None:
    """Log out and clear the session (the language choice stays)."""
    logout_user()
    _clear_keeping_language()
