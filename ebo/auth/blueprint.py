"""The auth blueprint, on which `views`, `account_views`, `mfa_views` and `gate` put their routes and hooks.

It has a module of its own so that every view module imports it and none imports another to reach it;
`ebo.auth.views` imports the others, so registering `views.bp` brings every auth route and hook.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__)
