"""Log in, log out, switch language, and the user's own account page.

Registering `bp` from here brings every auth route and hook: this module imports the others.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from ebo.auth import account_views, gate, mfa_views  # noqa: F401  (their routes and hooks are on bp too)
from ebo.auth.blueprint import bp
from ebo.auth.forms import EmailChangeForm, LanguageForm, LoginForm, PasswordChangeForm, PreferencesForm
from ebo.auth.mfa_views import begin_second_step
from ebo.auth.sessions import end_session, start_session
from ebo.extensions import limiter
from ebo.security import is_safe_next, public, safe_next
from ebo.services import account_links, accounts, audit, mfa, throttle


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _audit_address_throttled(_limit) -> None:
    """Flask-Limiter's breach hook: a login refused because the client address used up its attempts."""
    audit.record("login_throttled", "user", None, {"by": "address", "endpoint": request.endpoint})


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda response: response.status_code != 302,
               on_breach=_audit_address_throttled)
def login():
    """Show the login form; on success start a fresh session and go to `next` (local paths only)."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next") if is_safe_next(request.args.get("next")) else ""
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if throttle.blocked("login", email, "LOGIN_ACCOUNT_LIMIT"):
            audit.record("login_throttled", "user", None, {"by": "account"})
            abort(429)
        user = accounts.authenticate(email, form.password.data)
        if user is not None:
            target = form.next.data if is_safe_next(form.next.data) else url_for("main.home")
            if mfa.enabled(user):
                return begin_second_step(user, target)
            start_session(user)
            return redirect(target)
        throttle.failed("login", email, "LOGIN_ACCOUNT_LIMIT")
        flash(_("The email or password is wrong."), "error")
        return render_template("auth/login.html", form=form), 200
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """End the session everywhere: the user's session token is rotated."""
    accounts.rotate_session_token(current_user)
    audit.record("logout", "user", current_user.id)
    end_session()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
@public
def language():
    """Switch the interface language and return to the page the user came from."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
    return redirect(form.next.data if is_safe_next(form.next.data) else url_for("main.index"))


@bp.route("/account", methods=["GET", "POST"])
def account():
    """The user's own account: change password, email address and preferred language; two-step login."""
    pw_form = PasswordChangeForm(prefix="pw")
    pref_form = PreferencesForm(prefix="pref", locale=current_user.locale or "sv")
    email_form = EmailChangeForm(prefix="email")
    if email_form.submit.data and email_form.validate_on_submit():
        account_links.request_email_change(current_user, email_form.new_email.data)
        flash(_("We have sent a link to the new address. Your address changes when you follow it."), "success")
        return redirect(url_for("auth.account"))
    if pw_form.submit.data and pw_form.validate_on_submit():
        accounts.change_password(current_user, pw_form.new_password.data)
        # keep this session alive with the new token
        login_user(current_user._get_current_object(), remember=False)
        flash(_("Your password has been changed. Other sessions were logged out."), "success")
        return redirect(url_for("auth.account"))
    if pref_form.submit.data and pref_form.validate_on_submit():
        current_user.locale = pref_form.locale.data
        session["lang"] = pref_form.locale.data
        flash(_("Your preferences have been saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", pw_form=pw_form, pref_form=pref_form, email_form=email_form,
                           mfa_on=mfa.enabled(current_user), next=safe_next())

