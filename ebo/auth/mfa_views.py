"""Two-step login: the code after the password, enrolment, recovery codes, and asking again for fresh actions."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from ebo.auth.blueprint import bp
from ebo.auth.forms import CodeForm, EnrolForm, MfaOffForm, RecoveryCodesForm
from ebo.auth.sessions import start_session
from ebo.extensions import db
from ebo.models import User
from ebo.security import is_safe_next, public
from ebo.services import audit, mfa, throttle

PENDING_S = 300  # the password step is good for five minutes


def begin_second_step(user, target: str):
    """The password was right: remember who is half-way (not logged in) and ask for the code."""
    session["mfa_pending"] = {"uid": str(user.id), "tok": _token_tag(user), "at": time.time(), "next": target}
    return redirect(url_for("auth.login_code"))


def _token_tag(user) -> str:
    """A digest of the session token: the (readable, signed) cookie never carries the token itself."""
    return hashlib.sha256(user.session_token.encode()).hexdigest()[:32]


def mark_fresh() -> None:
    """Record that the second factor was given just now (for fresh-login actions)."""
    session["mfa_at"] = time.time()


def _check_code(user, code: str | None) -> str | None:
    """Check a code with throttling (failures per account) and audit; abort 429 when throttled."""
    if throttle.blocked("totp", user.id, "TOTP_RATE_LIMIT"):
        audit.record("mfa_throttled", "user", user.id, actor=user)
        abort(429)
    used = mfa.verify(user, code)
    if used is None:
        throttle.failed("totp", user.id, "TOTP_RATE_LIMIT")
        audit.record("mfa_failed", "user", user.id, actor=user)
    return used


def _pending_user():
    pending = session.get("mfa_pending") or {}
    if not pending or time.time() - pending.get("at", 0) > PENDING_S:
        return None, None
    try:
        user = db.session.get(User, uuid.UUID(pending["uid"]))
    except (KeyError, ValueError):
        return None, None
    if user is None or not user.active or not hmac.compare_digest(_token_tag(user), str(pending.get("tok"))):
        return None, None
    return user, pending


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    """The second step of logging in: a code from the authenticator app or a recovery code."""
    user, pending = _pending_user()
    if user is None:
        session.pop("mfa_pending", None)
        return render_template("auth/login_code.html", form=None)
    form = CodeForm()
    if form.validate_on_submit():
        used = _check_code(user, form.code.data)
        if used is not None:
            target = pending.get("next")
            start_session(user, via="password+" + used)
            mark_fresh()
            if used == "recovery":
                flash(_("You used a recovery code. %(n)d are left; make new ones on your account page.",
                        n=mfa.remaining_recovery_codes(user)), "info")
            return redirect(target if is_safe_next(target) else url_for("main.home"))
        form.code.errors = [_("That code is not right, or it was already used. Wait for a new code.")]
    return render_template("auth/login_code.html", form=form)


@bp.route("/account/two-step", methods=["GET", "POST"])
def mfa_setup():
    """Turn on two-step login: scan the QR code (or type the key), confirm with a code, keep the recovery codes."""
    form = EnrolForm()
    if mfa.enabled(current_user):
        return render_template("auth/mfa_status.html", off_form=MfaOffForm(prefix="off"),
                               codes_form=RecoveryCodesForm(prefix="codes"), required=mfa.required(current_user),
                               left=mfa.remaining_recovery_codes(current_user))
    if form.validate_on_submit():
        if throttle.blocked("totp", current_user.id, "TOTP_RATE_LIMIT"):
            audit.record("mfa_throttled", "user", current_user.id)
            abort(429)
        codes = mfa.confirm_enrolment(current_user, form.code.data)
        if codes is not None:
            mark_fresh()
            return render_template("auth/recovery_codes.html", codes=codes, first=True)
        throttle.failed("totp", current_user.id, "TOTP_RATE_LIMIT")
        form.code.errors = [_("That code is not right. Check the time on your phone and try the new code.")]
    rec = mfa.begin_enrolment(current_user)
    uri = mfa.provisioning_uri(current_user, rec)
    return render_template("auth/mfa_enrol.html", form=form, qr=mfa.qr_svg(uri), secret=mfa.grouped(rec.secret),
                           required=mfa.required(current_user))


@bp.route("/account/two-step/recovery-codes", methods=["POST"])
def mfa_new_codes():
    """Make ten new recovery codes (needs a code); they are shown once."""
    form = RecoveryCodesForm(prefix="codes")
    if not mfa.enabled(current_user):
        return redirect(url_for("auth.mfa_setup"))
    if form.validate_on_submit() and _check_code(current_user, form.code.data) is not None:
        mark_fresh()
        codes = mfa.new_recovery_codes(current_user)
        audit.record("mfa_recovery_codes_renewed", "user", current_user.id)
        return render_template("auth/recovery_codes.html", codes=codes, first=False)
    flash(_("That code is not right, or it was already used. Wait for a new code."), "error")
    return redirect(url_for("auth.mfa_setup"))


@bp.route("/account/two-step/off", methods=["POST"])
def mfa_off():
    """Turn two-step login off (not for staff where it is required)."""
    if mfa.required(current_user):
        abort(403)
    form = MfaOffForm(prefix="off")
    if form.validate_on_submit() and _check_code(current_user, form.code.data) is not None:
        mfa.remove(current_user, actor=current_user, reason="self")
        login_user(current_user._get_current_object(), remember=False)
        flash(_("Two-step login is off."), "success")
        return redirect(url_for("auth.account"))
    flash(_("Check your password and the code."), "error")
    return redirect(url_for("auth.mfa_setup"))


@bp.route("/account/two-step/confirm", methods=["GET", "POST"])
def mfa_confirm():
    """Give the second factor again before an export or an account change."""
    form = CodeForm()
    if request.method == "GET":
        form.next.data = request.args.get("next") if is_safe_next(request.args.get("next")) else ""
    if form.validate_on_submit():
        if _check_code(current_user, form.code.data) is not None:
            mark_fresh()
            audit.record("mfa_fresh", "user", current_user.id)
            return redirect(form.next.data if is_safe_next(form.next.data) else url_for("main.home"))
        form.code.errors = [_("That code is not right, or it was already used. Wait for a new code.")]
    return render_template("auth/mfa_confirm.html", form=form,
                           minutes=current_app.config["FRESH_2FA_MINUTES"])
