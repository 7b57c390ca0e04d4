"""Emailed links: forgotten password, staff invitation, email confirmation and change, must-change-password."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from ebo.auth.blueprint import bp
from ebo.auth.forms import ForgotPasswordForm, PasswordChangeForm, ResendForm, SetPasswordForm
from ebo.auth.sessions import end_session
from ebo.extensions import db, limiter
from ebo.models import User
from ebo.models.accounts import TokenPurpose
from ebo.security import public
from ebo.services import account_links, accounts, audit, tokens


def _forgot_limit() -> str:
    return current_app.config["FORGOT_RATE_LIMIT"]


def _audit_forgot_throttled(_limit) -> None:
    audit.record("password_reset_throttled", "user", None, {"by": "address"})


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit(_forgot_limit, methods=["POST"], on_breach=_audit_forgot_throttled)
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        account_links.request_password_reset(form.email.data)
        return redirect(url_for("auth.forgot_password_sent"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/forgot-password/sent")
@public
def forgot_password_sent():
    """The one answer to every forgotten-password request."""
    return render_template("auth/forgot_sent.html", minutes=current_app.config["PASSWORD_RESET_MINUTES"])


def _set_password_page(raw: str, purpose: TokenPurpose, template: str, done):
    row = tokens.find(raw, purpose)
    if row is None:
        return render_template("auth/link_invalid.html", purpose=purpose), 404

    user = db.session.get(User, row.user_id)
    form = SetPasswordForm()
    form.context = accounts.context_words(user.email, user.name)
    if form.validate_on_submit():
        if done(raw, form.new_password.data) is None:
            return render_template("auth/link_invalid.html", purpose=purpose), 404
        if current_user.is_authenticated:
            end_session()
        flash(_("Your password is saved. Log in with it now."), "success")
        return redirect(url_for("auth.login"))
    return render_template(template, form=form, user=user)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    """Choose a new password through the emailed link (single use); every session of the user ends."""
    return _set_password_page(token, TokenPurpose.RESET, "auth/reset.html", account_links.reset_password)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    """A staff member sets their own password through the invitation link (single use, 72 hours)."""
    return _set_password_page(token, TokenPurpose.INVITE, "auth/invitation.html", account_links.accept_invitation)


@bp.route("/confirm-email/<token>", methods=["GET", "POST"])
@public
def verify_email(token: str):
    """Confirm the email address given at registration (GET shows a button, POST confirms)."""
    if tokens.find(token, TokenPurpose.VERIFY) is None:
        return render_template("auth/link_invalid.html", purpose=TokenPurpose.VERIFY), 404
    form = ResendForm()  # a bare form: CSRF and a button
    if form.validate_on_submit():
        if account_links.confirm_email(token) is None:
            return render_template("auth/link_invalid.html", purpose=TokenPurpose.VERIFY), 404
        flash(_("Thank you! Your email address is confirmed."), "success")
        return redirect(url_for("main.home") if current_user.is_authenticated else url_for("auth.login"))
    return render_template("auth/confirm_email.html", form=form, change=False)


@bp.route("/confirm-new-email/<token>", methods=["GET", "POST"])
@public
def confirm_email_change(token: str):
    """Confirm a new email address; the change takes effect now and the old address is told."""
    if tokens.find(token, TokenPurpose.CHANGE_EMAIL) is None:
        return render_template("auth/link_invalid.html", purpose=TokenPurpose.CHANGE_EMAIL), 404
    form = ResendForm()
    if form.validate_on_submit():
        user = account_links.confirm_email_change(token)
        if user is None:
            return render_template("auth/link_invalid.html", purpose=TokenPurpose.CHANGE_EMAIL), 404
        if current_user.is_authenticated:
            end_session()
        flash(_("Your email address is changed. Log in with the new address."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/confirm_email.html", form=form, change=True)


@bp.route("/account/confirm-email/resend", methods=["POST"])
def resend_verification():
    """Send the confirmation link again (from the dashboard)."""
    form = ResendForm()
    if form.validate_on_submit():
        if account_links.resend_verification(current_user):
            flash(_("We have sent the link again to %(email)s.", email=current_user.email), "success")
        else:
            flash(_("We have already sent several links. Please wait an hour and try again."), "error")
    return redirect(url_for("main.home"))


@bp.route("/account/new-password", methods=["GET", "POST"])
def password_required():
    """A password chosen by someone else is changed at the first login."""
    form = PasswordChangeForm()
    if not current_user.must_change_password:
        return redirect(url_for("main.home"))
    if form.validate_on_submit():
        accounts.change_password(current_user, form.new_password.data)
        login_user(current_user._get_current_object(), remember=False)  # this session stays, with the new token
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("main.home"))
    return render_template("auth/password_required.html", form=form)


@bp.route("/registered")
@public
def registration_sent():
    """The one answer to every host registration, new address or not: confirm through the emailed link."""
    return render_template("auth/registration_sent.html")
