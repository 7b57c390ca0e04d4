"""Checks after login: a password set by someone else is changed, staff enrol a second factor where
required, and fresh-login actions (exports, account changes) ask for the second factor again."""

from __future__ import annotations

import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ebo.auth.blueprint import bp
from ebo.services import mfa

# Pages that the checks below never block (so that the person can do what is asked, or leave).
ALWAYS = {"static", "auth.logout", "auth.language", "auth.password_required", "auth.mfa_setup",
          "auth.mfa_confirm", "auth.login", "auth.login_code"}

# Fresh-login actions: endpoint -> the page to come back to after the code (None: the same URL).
# GET is included where the page itself is the confirmation form, so the code comes before the typing.
FRESH = {
    "placements.export": None,
    "hosts.my_data": None,
    "hosts.export": "hosts.my_data",
    "hosts.erase": "hosts.my_data",
    "admin.new_user": None,
    "admin.edit_user": None,
    "admin.invite": None,
    "admin.reset_mfa": "admin.users",
    "auth.account": None,
}
POST_ONLY = {"auth.account"}  # the account page itself can be read without a code


def _needs_fresh_code() -> bool:
    endpoint = request.endpoint
    if endpoint not in FRESH or (endpoint in POST_ONLY and request.method != "POST"):
        return False
    if not mfa.enabled(current_user):
        return False
    window = int(current_app.config["FRESH_2FA_MINUTES"]) * 60
    return time.time() - session.get("mfa_at", 0) > window


def _back_url() -> str:
    back = FRESH.get(request.endpoint)
    if back:
        return url_for(back)
    return request.full_path.rstrip("?") if request.method == "GET" else request.path


@bp.before_app_request
def _account_checks():
    """Runs after the access gate, for logged-in users on pages that need a login."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in ALWAYS or not current_user.is_authenticated:
        return None
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "is_public", False):
        return None
    if current_user.must_change_password:
        flash(_l("Please choose a new password of your own before you go on."), "info")
        return redirect(url_for("auth.password_required"))
    if mfa.required(current_user) and not mfa.enabled(current_user):
        flash(_l("Your role needs two-step login. Please turn it on before you go on."), "info")
        return redirect(url_for("auth.mfa_setup"))
    if _needs_fresh_code():
        flash(_l("Please enter a code from your authenticator app to go on."), "info")
        return redirect(url_for("auth.mfa_confirm", next=_back_url()))
    return None
