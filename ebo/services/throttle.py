"""Per-account throttles on top of Flask-Limiter's storage (memory, or Redis in production).

Only failures are counted (`failed`); `blocked` says whether the next attempt must be refused. Keys are
hashed, so neither email addresses nor user ids land in Redis.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from limits import parse

from ebo.extensions import limiter


def _key(value) -> str:
    return hashlib.sha256(str(value).strip().lower().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _enabled() -> bool:
    return bool(limiter.enabled and getattr(limiter, "initialized", False)
                and current_app.config.get("RATELIMIT_ENABLED", True))


def blocked(scope: str, who, limit_setting: str) -> bool:
    """True when `who` has used up the `limit_setting` (a config key such as LOGIN_ACCOUNT_LIMIT) of `scope`."""
    if not _enabled():
        return False
    item = parse(current_app.config[limit_setting])
    return not limiter.limiter.test(item, "ebo-" + scope, _key(who))


def failed(scope: str, who, limit_setting: str) -> None:
    """Count one failure of `who` against the limit."""
    if not _enabled():
        return
    limiter.limiter.hit(parse(current_app.config[limit_setting]), "ebo-" + scope, _key(who))


def hit_if_allowed(scope: str, who, limit_setting: str) -> bool:
    """Count one event and return True, or return False (and count nothing) when the limit is used up."""
    if not _enabled():
        return True
    return limiter.limiter.hit(parse(current_app.config[limit_setting]), "ebo-" + scope, _key(who))


def reset(scope: str, who, limit_setting: str) -> None:
    """Forget the failures of `who` (after a success)."""
    if not _enabled():
        return
    limiter.limiter.clear(parse(current_app.config[limit_setting]), "ebo-" + scope, _key(who))
