"""The admin blueprint, on which `views`, `account_views`, `audit_views` and `settings_views` put their routes.

It has a module of its own so that every view module imports it and none imports another to reach it;
`ebo.admin.views` imports the others, so registering `views.bp` brings every admin route.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__)
