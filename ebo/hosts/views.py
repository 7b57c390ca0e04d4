"""Host pages: registration (public), the dashboard, the offer, proposals and my data."""

from __future__ import annotations

import json
import secrets
import uuid

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ebo import clock
from ebo.auth.sessions import end_session
from ebo.extensions import limiter
from ebo.hosts.forms import ActionForm, AnswerForm, EditOfferForm, PasswordConfirmForm, RegistrationForm
from ebo.models import HostState, ProposalState
from ebo.permissions import HOST, role_required
from ebo.security import public
from ebo.services import account_links, accounts, host_data, hosts, overview
from ebo.services import proposals as proposals_svc
from ebo.services.hosts import LANGUAGES

bp = Blueprint("hosts", __name__)

LANGUAGE_NAMES = dict(LANGUAGES)


def _register_limit() -> str:
    # Only successful registrations count (a redirect to the dashboard): typos and refused forms cost nothing,
    # so a family correcting mistakes, or neighbours on one network, are not locked out.
    return current_app.config.get("REGISTER_RATE_LIMIT", "10 per hour")


def _household():
    return overview.host_household(current_user)


@bp.app_template_filter("language_name")
def language_name(code: str) -> str:
    """A language code's name in the current language (hosts' and families' language lists)."""
    return str(LANGUAGE_NAMES.get(code, code))


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.limit(_register_limit, methods=["POST"], deduct_when=lambda response: response.status_code == 302)
def register():
    """Offer a room: the account and the household in one form; a double submit makes one household."""
    if current_user.is_authenticated:
        return redirect(url_for("hosts.dashboard" if current_user.role == HOST else "main.home"))
    form = RegistrationForm()
    if request.method == "POST":
        valid = form.validate_on_submit()
        if valid and form.email_taken and hosts.recent_registration(form.email.data, form.new_password.data):
            return redirect(url_for("auth.registration_sent"))  # the same form sent twice: the same answer
        if valid and not _take_token(form.form_token.data):
            flash(_("This form has expired. Check your details and send it again."), "info")
        elif valid:
            # Same answer for a new and a taken address (account_links: no enumeration, confirm the address).
            if form.email_taken:
                account_links.existing_account_notice(form.email.data)
            else:
                try:
                    household = hosts.register(
                        form.email.data, form.new_password.data, form.offer_data(), locale=str(get_locale())
                    )
                except accounts.AccountError:
                    account_links.existing_account_notice(form.email.data)
                else:
                    account_links.start_verification(household.user)
            return redirect(url_for("auth.registration_sent"))
    session["host_reg_token"] = form.form_token.data = secrets.token_urlsafe(16)
    return render_template("hosts/register.html", form=form)


def _take_token(sent: str | None) -> bool:
    expected = session.pop("host_reg_token", None)
    return bool(expected and sent and secrets.compare_digest(expected.encode(), sent.encode()))


@bp.route("/")
@role_required(HOST)
def dashboard():
    """Where my offer stands, what I can do, and the proposals sent to me."""
    household = _household()
    if household is None:
        return render_template("hosts/no_offer.html")
    today = clock.today()
    proposals_svc.expire_overdue(today)  # a proposal past its answer deadline is shown as lapsed
    return render_template(
        "hosts/dashboard.html",
        household=household,
        status=hosts.status(household, today),
        proposals=hosts.proposals_for(household),
        waiting=[hosts.proposal_summary(p, today) for p in hosts.waiting_proposals(household)],
        answer_form=AnswerForm(),
        proposal_label=hosts.proposal_label,
        action_form=ActionForm(),
        today=today,
    )


@bp.route("/offer", methods=["GET", "POST"])
@role_required(HOST)
def edit():
    """Change my offer."""
    household = _household()
    if household is None:
        return redirect(url_for("hosts.dashboard"))
    form = EditOfferForm(obj=household)
    if form.validate_on_submit():
        try:
            changed = hosts.update_offer(household, form.offer_data())
        except hosts.HostError as e:
            target = form[e.field or "beds"]
            target.errors = [*target.errors, str(e)]
        else:
            flash(_("Your offer has been saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("hosts.dashboard"))
    return render_template("hosts/edit.html", form=form, household=household)


def _state_action(state: HostState | None, message: str):
    household = _household()
    if household is None:
        abort(404)
    if ActionForm().validate_on_submit():
        if state is None:
            hosts.reconfirm(household)
        else:
            hosts.set_state(household, state)
        flash(message, "success")
    return redirect(url_for("hosts.dashboard"))


@bp.route("/pause", methods=["POST"])
@role_required(HOST)
def pause():
    """Pause my offer: no proposals until I resume."""
    return _state_action(HostState.PAUSED, _("Your offer is paused."))


@bp.route("/resume", methods=["POST"])
@role_required(HOST)
def resume():
    """Resume a paused or withdrawn offer."""
    return _state_action(HostState.ACTIVE, _("Your offer is open again."))


@bp.route("/withdraw", methods=["POST"])
@role_required(HOST)
def withdraw():
    """Withdraw my offer."""
    return _state_action(HostState.WITHDRAWN, _("Your offer is withdrawn. Thank you for offering it."))


@bp.route("/reconfirm", methods=["POST"])
@role_required(HOST)
def reconfirm():
    """Confirm that my offer is still current."""
    return _state_action(None, _("Thank you! Your offer is confirmed for another year."))


@bp.route("/another-family", methods=["POST"])
@role_required("host")
def another_family():
    """After a stay: can I take another family? Yes keeps my offer open; no pauses it."""
    household = _household() or abort(404)
    if ActionForm().validate_on_submit():
        yes = request.form.get("answer") == "yes"
        try:
            hosts.answer_another_family(household, yes)
        except hosts.HostError as e:
            flash(str(e), "info")
        else:
            flash(
                _("Thank you! Your offer stays open for a new family.")
                if yes
                else _("Thank you! Your offer is paused; open it again whenever you like."),
                "success",
            )
    return redirect(url_for("hosts.dashboard"))


@bp.route("/proposals/<uuid:proposal_id>", methods=["GET", "POST"])
@role_required(HOST)
def proposal(proposal_id: uuid.UUID):
    """A proposal sent to me: the minimal summary of the family, and my answer."""
    household = _household()
    proposals_svc.expire_overdue()  # past its answer deadline, a proposal can no longer be answered
    found = hosts.proposal_for_host(household, proposal_id) or abort(404)
    form = AnswerForm()
    if found.state == ProposalState.EXPIRED and request.method == "POST":
        flash(_("The time to answer this proposal ran out, so we could not record your answer. "
                "A coordinator may propose a family to you again."), "error")
        return redirect(url_for("hosts.proposal", proposal_id=found.id))
    if found.state == ProposalState.SENT and form.validate_on_submit():
        try:
            hosts.answer_proposal(household, found, form.answer.data == "accept", form.reason.data or "")
        except hosts.HostError as e:
            flash(str(e), "error")
        else:
            flash(
                _("Thank you for your answer. A coordinator will contact you.")
                if form.answer.data == "accept"
                else _("Thank you for telling us."),
                "success",
            )
        return redirect(url_for("hosts.proposal", proposal_id=found.id))
    return render_template("hosts/proposal.html", p=hosts.proposal_summary(found, clock.today()), form=form)


@bp.route("/my-data")
@role_required(HOST)
def my_data():
    """Download or erase my data."""
    household = _household()
    return render_template(
        "hosts/my_data.html",
        household=household,
        hosting=household is not None and hosts.has_active_placement(household),
        export_form=PasswordConfirmForm(prefix="export"),
        erase_form=PasswordConfirmForm(prefix="erase"),
    )


@bp.route("/my-data/export", methods=["POST"])
@role_required(HOST)
def export():
    """Everything stored about me, as a JSON download (needs my password)."""
    form = PasswordConfirmForm(prefix="export")
    if not form.validate_on_submit():
        household = _household()
        return render_template(
            "hosts/my_data.html",
            household=household,
            hosting=household is not None and hosts.has_active_placement(household),
            export_form=form,
            erase_form=PasswordConfirmForm(prefix="erase"),
        ), 422
    body = json.dumps(host_data.export_data(current_user), ensure_ascii=False, indent=2)
    name = f"ebo-my-data-{clock.today().isoformat()}.json"
    return Response(
        body, mimetype="application/json", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.route("/my-data/erase", methods=["POST"])
@role_required(HOST)
def erase():
    """Erase my account (needs my password; refused while a family lives with me)."""
    form = PasswordConfirmForm(prefix="erase")
    household = _household()
    if form.validate_on_submit():
        try:
            host_data.erase_account(current_user)
        except hosts.HostError as e:
            flash(str(e), "error")
            return redirect(url_for("hosts.my_data"))
        end_session()
        flash(_("Your account and your data have been erased. Thank you for offering your home."), "success")
        return redirect(url_for("main.index"))
    return render_template(
        "hosts/my_data.html",
        household=household,
        hosting=household is not None and hosts.has_active_placement(household),
        export_form=PasswordConfirmForm(prefix="export"),
        erase_form=form,
    ), 422
