"""The public start page, a health check, and each role's landing page."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user

from ebo.extensions import db
from ebo.permissions import ADMIN, CASEWORKER, COORDINATOR, HOST
from ebo.security import public
from ebo.services import overview, todo

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def index():
    """What EBO hosting is, for residents; the way in for staff."""
    return render_template("main/index.html")


@bp.route("/healthz")
@public
def healthz():
    """Liveness for load balancers: answers when the database does."""
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}


@bp.route("/home")
def home():
    """The landing page of the logged-in user's role."""
    role = current_user.role
    if role == HOST:  # a host's home is the offer dashboard: status in words, proposals
        return current_app.view_functions["hosts.dashboard"]()
    if role == COORDINATOR:
        return render_template("main/home_coordinator.html", figures=overview.coordinator_figures(),
                               todo=todo.coordinator_todo())
    if role == CASEWORKER:
        return render_template("main/home_caseworker.html", figures=overview.caseworker_figures(),
                               todo=todo.caseworker_todo())
    if role == ADMIN:
        return render_template("main/home_admin.html", figures=overview.admin_figures(), todo=todo.admin_todo())
    return redirect(url_for("auth.login"))
