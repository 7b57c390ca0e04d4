"""Host self-service: registration, the offer, its state and yearly reconfirmation, proposal answers,
and the emails to hosts.

A host's own data (export and erasure) lives in ebo.services.host_data; coordinators' vetting of hosts
in ebo.services.vetting. This module is a little over 400 lines because everything here serves one
user, the host, and the status in words needs the offer's and the proposals' rules next to it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ebo import clock
from ebo.extensions import db
from ebo.languages import LANGUAGE_CHOICES, LANGUAGE_CODES
from ebo.models import (
    EmailMessage,
    Family,
    FamilyStatus,
    ForbiddenPair,
    ForbiddenReason,
    HostHousehold,
    HostState,
    MunicipalitySettings,
    Placement,
    Proposal,
    ProposalState,
    Role,
    User,
    VettingStatus,
)
from ebo.models.matching import HOST_VISIBLE_STATES
from ebo.models.types import add_months, utcnow
from ebo.services import accounts, audit, geocode, mail

CONSENT_VERSION = "2026-1"
REMINDER_DAYS_BEFORE = 30

# Languages a host can choose, as (code, name): the same list as the families' form.
LANGUAGES = LANGUAGE_CHOICES

# The offer's fields a host may set (registration and edit); nothing else is ever bound from a form.
OFFER_FIELDS = (
    "contact_name",
    "phone",
    "street",
    "postal_code",
    "town",
    "adults_living",
    "children_living",
    "beds",
    "rooms",
    "max_families",
    "accepts_children",
    "step_free",
    "has_pets",
    "smoking",
    "languages",
    "available_from",
    "available_until",
    "open_to_long_term_rental",
    "free_text",
)
ADDRESS_FIELDS = ("street", "postal_code", "town")
MAX_FAMILIES = 3  # the most families a host can offer to take at the same time

class HostError(ValueError):
    """A host action is not possible now; the message is for the user (and `field` names the form field)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- registration and the offer ---------------------------------------------------------------------


def _clean_offer(data: dict) -> dict:
    offer = {k: data[k] for k in OFFER_FIELDS if k in data}
    for key in ("contact_name", "street", "town", "phone"):
        if key in offer:
            offer[key] = " ".join((offer[key] or "").split())
    if "free_text" in offer:
        offer["free_text"] = (offer["free_text"] or "").strip() or None
    if "max_families" in offer:
        offer["max_families"] = min(max(int(offer["max_families"] or 1), 1), MAX_FAMILIES)
    if "languages" in offer:
        offer["languages"] = [c for c in dict.fromkeys(offer["languages"] or []) if c in LANGUAGE_CODES]
    return offer


def register(email: str, password: str, data: dict, locale: str | None = None) -> HostHousehold:
    """Create the host's account and household in one transaction, geocode it and send the receipt."""
    offer = _clean_offer(data)
    try:
        with db.session.begin_nested():
            user = accounts.create_user(email, password, Role.HOST, offer.get("contact_name", ""))
    except IntegrityError:  # a second submit raced the first one past the uniqueness check
        raise accounts.AccountError(_("An account with this email already exists.")) from None
    user.locale = locale if locale in current_app.config["LANGUAGES"] else None
    household = HostHousehold(
        user=user,
        email=user.email,
        consent_at=utcnow(),
        consent_version=CONSENT_VERSION,
        last_reconfirmed_at=utcnow(),
        **offer,
    )
    db.session.add(household)
    geocode.geocode_household(household)
    db.session.flush()
    audit.record("host_registered", "host", household.id, {"geocode": household.geocode_status}, actor=user)
    mail.send(
        user.email,
        _l("We have received your offer"),
        "registration_received",
        kind="host_registered",
        locale=mail.recipient_locale(user),
        household=household,
        link=mail.external_url("hosts.dashboard"),
    )
    return household


def recent_registration(email: str, password: str, minutes: int = 30) -> User | None:
    """The host account made from this email and password in the last minutes (a repeated submit), or None."""
    user = db.session.scalar(sa.select(User).where(User.email == (email or "").strip().lower()))
    if (
        user is None
        or user.role != Role.HOST
        or user.host is None
        or not user.active
        or (utcnow() - user.created_at).total_seconds() > minutes * 60
        or not accounts.verify_password(user, password)
    ):
        return None
    return user


def update_offer(household: HostHousehold, data: dict) -> list[str]:
    """Change the offer's fields; a new address is geocoded and vetted again; return the changed field names."""
    offer = _clean_offer(data)
    if "beds" in offer and offer["beds"] < household.beds_used:
        raise HostError(_("You host %(n)d people now; offer at least that many beds.", n=household.beds_used))
    if "max_families" in offer and offer["max_families"] < household.families_placed:
        raise HostError(
            _(
                "%(n)d families live with you now; you can choose fewer after a stay has ended.",
                n=household.families_placed,
            ),
            field="max_families",
        )
    changed = [k for k, v in offer.items() if getattr(household, k) != v]
    for key in changed:
        setattr(household, key, offer[key])
    if "contact_name" in changed:
        household.user.name = offer["contact_name"]
    moved = bool(set(changed) & set(ADDRESS_FIELDS))
    if moved:
        geocode.geocode_household(household)
        if household.vetting_status in (VettingStatus.VISITED, VettingStatus.APPROVED):
            # Another home has not been visited: it goes back to the vetting queue.
            household.vetting_status = VettingStatus.REGISTERED
    if changed:
        audit.record("host_offer_updated", "host", household.id, {"fields": sorted(changed), "revet": moved})
    return changed


def has_active_placement(household: HostHousehold) -> bool:
    """Whether a family lives with the host now."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Placement)
            .where(Placement.host_id == household.id, Placement.end_date.is_(None))
        )
        > 0
    )


def set_state(household: HostHousehold, state: HostState) -> None:
    """Pause, resume or withdraw the offer (the host's own choice); audited."""
    if household.state == state:
        return
    old = household.state
    household.state = state
    audit.record(
        f"host_{state.value}" if state != HostState.ACTIVE else "host_resumed",
        "host",
        household.id,
        {"from": old},
    )


def reconfirm(household: HostHousehold) -> None:
    """The host confirms the offer is still current: it takes part in matching for another period."""
    household.last_reconfirmed_at = utcnow()
    household.reconfirm_reminder_sent_at = None
    audit.record("host_reconfirmed", "host", household.id)


def reconfirm_months() -> int:
    """Months after which an offer without reconfirmation leaves matching (a municipality setting)."""
    return MunicipalitySettings.get().reconfirm_months


def reconfirm_due_on(household: HostHousehold, months: int | None = None) -> date | None:
    """The day the offer leaves matching unless the host reconfirms before."""
    if household.last_reconfirmed_at is None:
        return None
    return add_months(household.last_reconfirmed_at.date(), months or reconfirm_months())


@dataclass(frozen=True)
class HostStatus:
    """Where the host stands, in words, and whether to ask for reconfirmation now."""

    key: str
    label: str
    explanation: str
    due_on: date | None
    reconfirm_now: bool
    in_matching: bool


def status(household: HostHousehold, today: date) -> HostStatus:
    """The host's situation: registered, waiting for a visit, approved, paused, proposal waiting, hosting…"""
    months = reconfirm_months()
    due = reconfirm_due_on(household, months)
    lapsed = due is not None and due <= today
    reconfirm_now = (
        household.state == HostState.ACTIVE
        and household.vetting_status != VettingStatus.REJECTED
        and (due is None or (due - today).days <= REMINDER_DAYS_BEFORE)
    )
    in_matching = household.takes_part_in_matching(today, months)
    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Proposal)
        .where(Proposal.host_id == household.id, Proposal.state == ProposalState.SENT)
    )
    if household.state == HostState.WITHDRAWN:
        key, text = (
            "withdrawn",
            _("You have withdrawn your offer. You can offer your room again at any time."),
        )
    elif waiting:
        key, text = (
            "proposal_waiting",
            _("A family has been proposed to you. Please answer as soon as you can."),
        )
    elif has_active_placement(household):
        key, text = "hosting", _("A family lives with you. Thank you! Your coordinator follows up with you.")
    elif household.state == HostState.PAUSED:
        key, text = "paused", _("Your offer is paused: we will not propose any family until you resume it.")
    elif household.vetting_status == VettingStatus.REGISTERED:
        key, text = (
            "registered",
            _("We have received your offer. A coordinator will contact you to arrange a home visit."),
        )
    elif household.vetting_status == VettingStatus.VISITED:
        key, text = "visited", _("Thank you for the home visit. A coordinator will decide shortly.")
    elif household.vetting_status == VettingStatus.REJECTED:
        key, text = (
            "rejected",
            _("Your offer was not approved. The coordinators will tell you why if you ask."),
        )
    elif lapsed:
        key, text = (
            "reconfirm",
            _(
                "Your offer has not been confirmed for a year, so it is not used for "
                "matching now. Confirm it below to take part again."
            ),
        )
    else:
        key, text = "approved", _("Your offer is approved. We will contact you when a family fits your home.")
    labels = {
        "withdrawn": _("Withdrawn"),
        "hosting": _("Hosting a family"),
        "paused": _("Paused"),
        "proposal_waiting": _("Proposal waiting for your answer"),
        "registered": _("Registered, waiting for a home visit"),
        "visited": _("Visited, waiting for a decision"),
        "rejected": _("Not approved"),
        "reconfirm": _("Waiting for your confirmation"),
        "approved": _("Approved"),
    }
    return HostStatus(key, labels[key], text, due, reconfirm_now, in_matching)


# --- proposals ---------------------------------------------------------------------------------------

# A proposal's state as the host sees it: in the host's words, never the coordinators' ("sent to the host").
HOST_PROPOSAL_LABELS = {
    ProposalState.SENT: _l("Waiting for your answer"),
    ProposalState.ACCEPTED: _l("You said yes"),
    ProposalState.DECLINED: _l("You said no"),
    ProposalState.CONFIRMED: _l("The stay is agreed"),
    ProposalState.EXPIRED: _l("The time to answer ran out"),
}
DEFAULT_STAY_DAYS = 90  # a run's shortest stay when its parameters do not say


def proposal_label(proposal: Proposal) -> str:
    """The proposal's state in the host's words."""
    return str(HOST_PROPOSAL_LABELS.get(ProposalState(proposal.state), proposal.state))


def answer_by(proposal: Proposal) -> date | None:
    """The last day the host is asked to answer: the sent day (in Sweden) plus PROPOSAL_ANSWER_DAYS."""
    if proposal.sent_at is None:
        return None
    days = int(current_app.config.get("PROPOSAL_ANSWER_DAYS", 3))
    return proposal.sent_at.astimezone(clock.SWEDEN).date() + timedelta(days=days)


def expected_stay_days(proposal: Proposal) -> int:
    """How long the stay is expected to last at least: the shortest stay the run planned for, in days."""
    params = (proposal.run.params if proposal.run is not None else None) or {}
    try:
        return max(int(params.get("min_stay_days", DEFAULT_STAY_DAYS)), 1)
    except (TypeError, ValueError):
        return DEFAULT_STAY_DAYS


#: At most this many waiting proposals lead the host's dashboard (a home takes at most a few families at once).
WAITING_SHOWN = 5


def waiting_proposals(household: HostHousehold) -> list[Proposal]:
    """The proposals waiting for this host's answer, oldest first (at most WAITING_SHOWN)."""
    return list(
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.host_id == household.id, Proposal.state == ProposalState.SENT)
            .options(selectinload(Proposal.family).selectinload(Family.members))
            .order_by(Proposal.sent_at.asc().nulls_last(), Proposal.created_at)
            .limit(WAITING_SHOWN)
        )
    )


def proposals_for(household: HostHousehold) -> list[Proposal]:
    """The proposals a coordinator has sent to this host, newest first."""
    return list(
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.host_id == household.id, Proposal.state.in_(sorted(HOST_VISIBLE_STATES)))
            .order_by(Proposal.sent_at.desc().nulls_last(), Proposal.created_at.desc())
        )
    )


def proposal_for_host(household: HostHousehold | None, proposal_id: uuid.UUID) -> Proposal | None:
    """The proposal if it was sent to this host; None otherwise (the view answers 404)."""
    if household is None:
        return None
    return db.session.scalar(
        sa.select(Proposal).where(
            Proposal.id == proposal_id,
            Proposal.host_id == household.id,
            Proposal.state.in_(sorted(HOST_VISIBLE_STATES)),
        )
    )


def proposal_summary(proposal: Proposal, today: date) -> dict:
    """What a host may know of the family (docs/domain.md, Proposals).

    Sizes, children's ages, languages, needs of the home, arrival; after confirmation also the contact's
    first name and phone and the coordinator's contact.
    """
    family: Family = proposal.family
    ages = sorted(today.year - m.birth_year for m in family.children if m.birth_year is not None)
    summary = {
        "id": proposal.id,
        "state": proposal.state,
        "adults": len(family.adults),
        "children": len(family.children),
        "child_ages": ages,
        "languages": list(family.languages or []),
        "needs_step_free": bool(family.needs_step_free),
        "pet_allergy": bool(family.pet_allergy),
        "needs_non_smoking": bool(family.needs_non_smoking),
        "arrival": family.needed_from,
        "sent_at": proposal.sent_at,
        "answer_by": answer_by(proposal),
        "late": (answer_by(proposal) or today) < today,
        "stay_days": expected_stay_days(proposal),
        "state_label": proposal_label(proposal),
        "answered_at": proposal.answered_at,
        "decline_reason": proposal.decline_reason,
        "confirmed": False,
    }
    placement = None  # a proposal still waiting for the host's answer has no placement (no query for it)
    if proposal.state != ProposalState.SENT:
        placement = db.session.scalar(sa.select(Placement).where(Placement.proposal_id == proposal.id))
    if proposal.state == ProposalState.CONFIRMED or placement is not None:
        confirmer_id = (placement.confirmed_by if placement is not None else None) or proposal.decided_by
        coordinator = db.session.get(User, confirmer_id) if confirmer_id else None
        summary.update(
            confirmed=True,
            contact_first_name=(family.contact_name or "").split()[0] if family.contact_name else "",
            contact_phone=family.contact_phone or "",
            coordinator_name=coordinator.name if coordinator else "",
            coordinator_email=coordinator.email if coordinator else "",
            start_date=placement.start_date if placement is not None else None,
        )
    return summary


def answer_proposal(household: HostHousehold, proposal: Proposal, accept: bool, reason: str = "") -> None:
    """Accept or decline a sent proposal; a decline forbids the pair and puts the family back in the queue."""
    new_state = ProposalState.ACCEPTED if accept else ProposalState.DECLINED
    values = {"state": new_state, "answered_at": utcnow()}
    if not accept:
        values["decline_reason"] = (reason or "").strip() or None
    # Guarded update: only a proposal still in "sent" can be answered, once, even with two tabs open.
    done = db.session.execute(
        sa.update(Proposal)
        .where(
            Proposal.id == proposal.id,
            Proposal.host_id == household.id,
            Proposal.state == ProposalState.SENT,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise HostError(_("This proposal can no longer be answered."))
    db.session.refresh(proposal)
    if not accept:
        exists = db.session.scalar(
            sa.select(ForbiddenPair.id).where(
                ForbiddenPair.family_id == proposal.family_id, ForbiddenPair.host_id == household.id
            )
        )
        if exists is None:
            db.session.add(
                ForbiddenPair(
                    family_id=proposal.family_id,
                    host_id=household.id,
                    reason=ForbiddenReason.DECLINED,
                    created_by=household.user_id,
                )
            )
        family = db.session.get(Family, proposal.family_id)
        if family is not None and family.status == FamilyStatus.PROPOSED and family.active_placement is None:
            family.status = FamilyStatus.WAITING
    db.session.flush()
    audit.record("proposal_accepted" if accept else "proposal_declined", "proposal", proposal.id)


# --- after a stay -----------------------------------------------------------------------------------


def ask_another_family(household: HostHousehold) -> EmailMessage | None:
    """A stay with the host has ended: ask (on the dashboard and by email) whether they can take another family.

    Not asked when the offer is withdrawn or not approved: there is nothing to keep open.
    """
    if household.state == HostState.WITHDRAWN or household.vetting_status == VettingStatus.REJECTED:
        return None
    household.another_family_asked_at = utcnow()
    audit.record("host_asked_another_family", "host", household.id)
    return _mail_host(household, _l("Could you take another family?"), "another_family", "another_family")


def answer_another_family(household: HostHousehold, yes: bool) -> None:
    """The host's answer after a stay: yes keeps (or opens) the offer; no pauses it. Audited."""
    if household.another_family_asked_at is None:
        raise HostError(_("There is no question waiting for your answer."))
    household.another_family_asked_at = None
    set_state(household, HostState.ACTIVE if yes else HostState.PAUSED)
    audit.record("host_another_family_yes" if yes else "host_another_family_no", "host", household.id)


# --- emails ------------------------------------------------------------------------------------------


def _mail_host(household: HostHousehold, subject, template: str, kind: str, **ctx) -> EmailMessage:
    return mail.send(
        household.email,
        subject,
        template,
        kind=kind,
        locale=mail.recipient_locale(household.user),
        household=household,
        link=mail.external_url("hosts.dashboard"),
        **ctx,
    )


def notify_approved(household: HostHousehold) -> EmailMessage:
    """Tell the host the offer was approved."""
    return _mail_host(household, _l("Your offer has been approved"), "approved", "host_approved")


def notify_proposal_waiting(proposal: Proposal) -> EmailMessage | None:
    """Tell the host a proposal awaits an answer (call when a coordinator sends it); no family details."""
    if proposal.host is None:
        return None
    return _mail_host(
        proposal.host,
        _l("A family has been proposed to you"),
        "proposal_waiting",
        "proposal_waiting",
        proposal_link=mail.external_url("hosts.proposal", proposal_id=proposal.id),
        answer_by=answer_by(proposal),
    )


def notify_reconfirmation_due(household: HostHousehold, due_on: date) -> EmailMessage:
    """Remind the host to confirm the offer before it leaves matching."""
    return _mail_host(
        household,
        _l("Please confirm that your offer is still open"),
        "reconfirmation_due",
        "reconfirmation_due",
        due_on=due_on,
    )
