"""Staff invitations, sending an invitation again, and resetting someone's second factor."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ebo.admin.account_forms import ConfirmActionForm, InviteForm
from ebo.admin.blueprint import bp
from ebo.extensions import db
from ebo.models import User
from ebo.permissions import ADMIN, role_required
from ebo.services import account_links, accounts, mfa


@bp.route("/users/invite", methods=["GET", "POST"])
@role_required(ADMIN)
def invite():
    """Invite a staff member by email (the link works once, for 72 hours)."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            account_links.invite(form.email.data, form.name.data, form.role.data, actor=current_user)
        except accounts.AccountError as e:
            form.email.errors.append(str(e))
        else:
            flash(_("An invitation was sent to %(email)s.", email=form.email.data.strip().lower()), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/invite.html", form=form)


def _user_or_404(user_id: uuid.UUID):
    return db.session.get(User, user_id) or abort(404)


@bp.route("/users/<uuid:user_id>/invite-again", methods=["POST"])
@role_required(ADMIN)
def invite_again(user_id: uuid.UUID):
    """Send a new invitation link to someone who has not yet accepted (earlier links stop working)."""
    user = _user_or_404(user_id)
    form = ConfirmActionForm(prefix="inv")
    if not account_links.invitation_pending(user) or not user.active:
        abort(404)
    if form.validate_on_submit():
        account_links.send_invitation(user, current_user)
        flash(_("A new invitation was sent to %(email)s.", email=user.email), "success")
    else:
        flash(_("Enter your own password to confirm."), "error")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<uuid:user_id>/reset-two-step", methods=["POST"])
@role_required(ADMIN)
def reset_mfa(user_id: uuid.UUID):
    """Remove someone's second factor (lost phone): their sessions end and they enrol again."""
    user = _user_or_404(user_id)
    form = ConfirmActionForm(prefix="mfa")
    if not mfa.enabled(user) and mfa.record_for(user) is None:
        flash(_("This account has no two-step login to reset."), "info")
    elif form.validate_on_submit():
        mfa.remove(user, actor=current_user, reason="admin")
        flash(_("Two-step login of %(email)s was reset. They must turn it on again at the next login.",
                email=user.email), "success")
    else:
        flash(_("Enter your own password to confirm."), "error")
    return redirect(url_for("admin.edit_user", user_id=user.id))


def edit_extras(user) -> dict:
    """What the account page of `user` shows about invitations and the second factor."""
    return {
        "invitation_pending": account_links.invitation_pending(user),
        "mfa_on": mfa.enabled(user),
        "mfa_form": ConfirmActionForm(prefix="mfa"),
        "invite_form": ConfirmActionForm(prefix="inv"),
    }
