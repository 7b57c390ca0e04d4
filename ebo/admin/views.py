"""Staff accounts, for administrators; registering `bp` from here brings every admin route."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ebo.admin import account_views, audit_views, settings_views  # noqa: F401  (their routes are on bp too)
from ebo.admin.blueprint import bp
from ebo.admin.forms import StaffUserForm, UserChangeForm
from ebo.extensions import db
from ebo.models import User
from ebo.pagination import page_arg
from ebo.permissions import ADMIN, ALL_ROLES, role_required
from ebo.services import accounts

PER_PAGE = 50


@bp.route("/users")
@role_required(ADMIN)
def users():
    """All accounts, staff first, paginated."""
    role = request.args.get("role", "")
    query = sa.select(User).order_by(User.role, User.email)
    if role in ALL_ROLES:
        query = query.where(User.role == role)
    page = db.paginate(query, page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/users.html", page=page, role=role, roles=ALL_ROLES)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(ADMIN)
def new_user():
    """Create a staff account."""
    form = StaffUserForm()
    if form.validate_on_submit():
        try:
            accounts.create_user(form.email.data, form.new_password.data, form.role.data, form.name.data,
                                 actor=current_user, check_policy=False, must_change_password=True)
        except accounts.AccountError as e:
            form.email.errors.append(str(e))
        else:
            flash(_("The account for %(email)s was created.", email=form.email.data.strip().lower()), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<uuid:user_id>", methods=["GET", "POST"])
@role_required(ADMIN)
def edit_user(user_id: uuid.UUID):
    """Change a user's role or deactivate the account."""
    user = db.session.get(User, user_id) or abort(404)
    form = UserChangeForm(role=user.role, active="1" if user.active else "0")
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != ADMIN or form.active.data != "1"):
            form.role.errors.append(_("You cannot take away your own administrator access."))
        else:
            if form.role.data != user.role:
                accounts.set_role(user, form.role.data, actor=current_user)
            if (form.active.data == "1") != user.active:
                accounts.set_active(user, form.active.data == "1", actor=current_user)
            flash(_("The changes were saved."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_edit.html", form=form, user=user, **account_views.edit_extras(user))
