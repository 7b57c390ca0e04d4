"""Accounts: argon2id password hashing, the password policy, authentication and staff accounts."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, has_request_context
from flask_babel import gettext as _
from flask_login import current_user

from ebo.extensions import db
from ebo.models import User, new_session_token
from ebo.models.types import utcnow
from ebo.permissions import ALL_ROLES
from ebo.services import audit, throttle, tokens

PASSWORD_MIN = 8
PASSWORD_MAX = 128

# A hash of a throw-away password, so that a login for an unknown email costs as much as a real one.
_DUMMY_HASH: str | None = None


def hasher() -> PasswordHasher:
    """The argon2id hasher with this installation's parameters (tests may lower the cost)."""
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg.get("ARGON2_TIME_COST", 3),
        memory_cost=cfg.get("ARGON2_MEMORY_COST", 65536),
        parallelism=cfg.get("ARGON2_PARALLELISM", 4),
    )


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return hasher().hash(password)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = resources.files("ebo").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problem(password: str, context: tuple[str, ...] = ()) -> str | None:
    """Why `password` is not acceptable (length, common, built from context words), or None."""
    if len(password) < PASSWORD_MIN:
        return _("Use at least %(n)d characters.", n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return _("Use at most %(n)d characters.", n=PASSWORD_MAX)
    low = password.lower()
    if low in _common_passwords() or len(set(low)) <= 2:
        return _("This password is too common. Choose another one, for example a few words in a row.")
    for word in context:
        w = (word or "").strip().lower()
        if len(w) >= 4 and w in low and len(low) - len(w) < 6:
            return _("The password is too close to your name, email or this service. Choose another one.")
    return None


def context_words(email: str = "", name: str = "") -> tuple[str, ...]:
    """Words a password must not be built from: the email, its parts, the name, the service."""
    local = email.split("@", 1)[0]
    words = [email, local, *local.replace(".", " ").replace("_", " ").split(), *name.split(), "ebo",
             "eget boende", current_app.config.get("MUNICIPALITY_NAME") or ""]
    return tuple(w for w in words if w)


def authenticate(email: str, password: str):
    """The active user with this email and password, rehashing the stored hash if needed; else None."""
    global _DUMMY_HASH
    ph = hasher()
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = ph.hash("not-a-real-password")
        try:
            ph.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        audit.record("login_failed", "user", None, {"reason": "unknown" if user is None else "inactive"})
        return None
    try:
        ph.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        audit.record("login_failed", "user", user.id, {"reason": "password"}, actor=None)
        return None
    if ph.check_needs_rehash(user.password_hash):
        user.password_hash = ph.hash(password)
        audit.record("password_rehashed", "user", user.id, actor=user)
    return user


def verify_password(user, password: str) -> bool:
    """True if `password` is the user's current password (for fresh-login checks).

    A logged-in user confirming their own password is throttled like a login (failures per account,
    shared with the login form): past the limit the request ends in 429 and the attempt is audited.
    """
    confirming = _confirming_own_password(user)
    if confirming and throttle.blocked("login", user.email, "LOGIN_ACCOUNT_LIMIT"):
        audit.record("password_confirm_throttled", "user", user.id)
        abort(429)
    try:
        return hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        if confirming:
            throttle.failed("login", user.email, "LOGIN_ACCOUNT_LIMIT")
            audit.record("password_confirm_failed", "user", user.id)
        return False


def _confirming_own_password(user) -> bool:
    return bool(has_request_context() and getattr(current_user, "is_authenticated", False)
                and current_user.id == user.id)


class AccountError(ValueError):
    """An account could not be created or changed; the message is for the user."""


def create_user(email: str, password: str, role: str, name: str = "", actor=None, check_policy: bool = True,
                must_change_password: bool = False):
    """Create a user with a hashed password; refuses duplicates and weak passwords.

    `must_change_password`: the password was chosen by someone else (an administrator, the command
    line), so the person must change it at the first login.
    """
    email = email.strip().lower()
    if role not in ALL_ROLES:
        raise AccountError(_("Unknown role."))
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise AccountError(_("An account with this email already exists."))
    if check_policy:
        problem = password_problem(password, context_words(email, name))
        if problem:
            raise AccountError(problem)
    user = User(email=email, password_hash=hash_password(password), role=role, name=name.strip(), active=True,
                must_change_password=must_change_password)
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", "user", user.id, {"role": role}, actor=actor)
    return user


def rotate_session_token(user) -> None:
    """Invalidate every session of `user` (logout, password change, deactivation)."""
    user.session_token = new_session_token()


def change_password(user, new_password: str, event: str = "password_changed") -> None:
    """Set a new password (policy checked by the form) and revoke every session of the user."""
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    rotate_session_token(user)
    audit.record(event, "user", user.id, actor=user)


def set_role(user, role: str, actor) -> None:
    """Change a user's role (admins only; audited)."""
    if role not in ALL_ROLES:
        raise AccountError(_("Unknown role."))
    old = user.role
    user.role = role
    rotate_session_token(user)
    audit.record("role_changed", "user", user.id, {"from": old, "to": role}, actor=actor)


def set_active(user, active: bool, actor) -> None:
    """Activate or deactivate an account; deactivation ends its sessions."""
    user.active = active
    if not active:
        rotate_session_token(user)
        tokens.revoke_all(user)
    audit.record("user_activated" if active else "user_deactivated", "user", user.id, actor=actor)
