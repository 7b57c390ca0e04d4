"""Hosts' use cases: registration, the offer, its state and yearly reconfirmation, proposal answers,
export and erasure of one's own data, and the emails that go with them."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

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
    User,
    VettingStatus,
)
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

# Proposal states a host sees: the ones a coordinator has sent (nothing reaches a host before that).
HOST_VISIBLE_STATES = (
    ProposalState.SENT.value,
    ProposalState.ACCEPTED.value,
    ProposalState.DECLINED.value,
    ProposalState.CONFIRMED.value,
)


class HostError(ValueError):
    """A host action is not possible now; the message is for the user."""


# --- field rules ------------------------------------------------------------------------------------

_POSTAL_RE = re.compile(r"[1-9]\d{4}")


def normalise_postal_code(raw: str | None) -> str | None:
    """A Swedish postal code as 'NNN NN' (from 'NNNNN' or 'NNN NN', optional 'SE-'), or None if invalid."""
    text = (raw or "").strip().upper()
    text = text.removeprefix("SE-").removeprefix("SE").strip()
    digits = text.replace(" ", "")
    if not _POSTAL_RE.fullmatch(digits) or len(text) > 6 or (len(text) == 6 and text[3] != " "):
        return None
    return f"{digits[:3]} {digits[3:]}"


def normalise_phone(raw: str | None) -> str | None:
    """A Swedish phone number as '+46…' (from +46…, 0046… or 0…), 8–15 digits after cleaning; else None."""
    text = (raw or "").strip()
    if not text or len(text) > 40 or not re.fullmatch(r"[+\d][\d\s\-()./]*", text):
        return None
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        if not digits.startswith("46"):
            return None
        national = digits[2:]
    elif digits.startswith("0046"):
        national = digits[4:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        return None
    national = national.lstrip("0") if text.startswith("+") else national
    if not 7 <= len(national) <= 13 or not 8 <= len(digits) <= 15:
        return None
    return "+46" + national


# --- registration and the offer ---------------------------------------------------------------------


def _clean_offer(data: dict) -> dict:
    offer = {k: data[k] for k in OFFER_FIELDS if k in data}
    for key in ("contact_name", "street", "town", "phone"):
        if key in offer:
            offer[key] = " ".join((offer[key] or "").split())
    if "free_text" in offer:
        offer["free_text"] = (offer["free_text"] or "").strip() or None
    if "languages" in offer:
        offer["languages"] = [c for c in dict.fromkeys(offer["languages"] or []) if c in LANGUAGE_CODES]
    return offer


def register(email: str, password: str, data: dict, locale: str | None = None) -> HostHousehold:
    """Create the host's account and household in one transaction, geocode it and send the receipt."""
    offer = _clean_offer(data)
    try:
        user = accounts.create_user(email, password, "host", offer.get("contact_name", ""))
    except IntegrityError:  # a second submit raced the first one past the uniqueness check
        db.session.rollback()
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
        or user.role != "host"
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
            household.vetting_status = VettingStatus.REGISTERED.value
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
    if household.state == state.value:
        return
    old = household.state
    household.state = state.value
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
        .where(Proposal.host_id == household.id, Proposal.state == ProposalState.SENT.value)
    )
    if household.state == HostState.WITHDRAWN:
        key, text = (
            "withdrawn",
            _("You have withdrawn your offer. You can offer your room again at any time."),
        )
    elif has_active_placement(household):
        key, text = "hosting", _("A family lives with you. Thank you! Your coordinator follows up with you.")
    elif household.state == HostState.PAUSED:
        key, text = "paused", _("Your offer is paused: we will not propose any family until you resume it.")
    elif waiting:
        key, text = (
            "proposal_waiting",
            _("A family has been proposed to you. Please answer as soon as you can."),
        )
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


def proposals_for(household: HostHousehold) -> list[Proposal]:
    """The proposals a coordinator has sent to this host, newest first."""
    return list(
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.host_id == household.id, Proposal.state.in_(HOST_VISIBLE_STATES))
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
            Proposal.state.in_(HOST_VISIBLE_STATES),
        )
    )


def proposal_summary(proposal: Proposal, today: date) -> dict:
    """What a host may know of the family (domain.md): sizes, children's ages, languages, needs of the home,
    arrival; after confirmation also the contact's first name and phone and the coordinator's contact."""
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
        "answered_at": proposal.answered_at,
        "decline_reason": proposal.decline_reason,
        "confirmed": False,
    }
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
    values = {"state": new_state.value, "answered_at": utcnow()}
    if not accept:
        values["decline_reason"] = (reason or "").strip() or None
    # Guarded update: only a proposal still in "sent" can be answered, once, even with two tabs open.
    done = db.session.execute(
        sa.update(Proposal)
        .where(
            Proposal.id == proposal.id,
            Proposal.host_id == household.id,
            Proposal.state == ProposalState.SENT.value,
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
                    reason=ForbiddenReason.DECLINED.value,
                    created_by=household.user_id,
                )
            )
        family = db.session.get(Family, proposal.family_id)
        if family is not None and family.status == FamilyStatus.PROPOSED and family.active_placement is None:
            family.status = FamilyStatus.WAITING.value
    db.session.flush()
    audit.record("proposal_accepted" if accept else "proposal_declined", "proposal", proposal.id)


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


# --- my data ------------------------------------------------------------------------------------------


def _iso(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def export_data(user: User) -> dict:
    """Everything stored about the host (GDPR art. 15), as JSON-ready data; audited as 'export'.

    Included: the account, the household with its coordinates and vetting (the coordinator's reason and
    visit notes are assessments about the host, so they are included), home visits, proposals as the host
    saw them, placements without the family's details, emails sent and the host's own audit events.
    Left out: password hash and session token (secrets), and anything about the families (their data).
    """
    household = user.host
    data: dict = {
        "format": "ebo-host-export/1",
        "exported_at": utcnow().isoformat(),
        "account": {
            k: _iso(getattr(user, k))
            for k in (
                "id",
                "email",
                "name",
                "role",
                "locale",
                "created_at",
                "last_login_at",
                "password_changed_at",
            )
        },
        "household": None,
        "home_visits": [],
        "proposals": [],
        "placements": [],
        "emails": [],
        "activity": [],
    }
    if household is not None:
        columns = [c.key for c in sa.inspect(HostHousehold).column_attrs if c.key != "user_id"]
        data["household"] = {k: _iso(getattr(household, k)) for k in columns}
        data["home_visits"] = [
            {
                "visited_on": _iso(v.visited_on),
                "visited_by": v.visited_by_name,
                "outcome": v.outcome,
                "notes": v.notes,
            }
            for v in household.home_visits
        ]
        data["proposals"] = [
            {
                "id": str(p.id),
                "state": p.state,
                "sent_at": _iso(p.sent_at),
                "answered_at": _iso(p.answered_at),
                "decline_reason": p.decline_reason,
            }
            for p in db.session.scalars(
                sa.select(Proposal).where(Proposal.host_id == household.id, Proposal.state.in_(HOST_VISIBLE_STATES))
            )
        ]
        data["placements"] = [
            {
                "id": str(p.id),
                "persons": p.persons,
                "start_date": _iso(p.start_date),
                "end_date": _iso(p.end_date),
                "end_reason": p.end_reason,
            }
            for p in household.placements
        ]
    addresses = {user.email} | ({household.email} if household is not None else set())
    data["emails"] = [
        {"subject": m.subject, "kind": m.kind, "created_at": _iso(m.created_at), "sent_at": _iso(m.sent_at)}
        for m in db.session.scalars(
            sa.select(EmailMessage).where(EmailMessage.to_addr.in_(addresses)).order_by(EmailMessage.created_at)
        )
    ]
    from ebo.models import AuditEvent

    data["activity"] = [
        {"at": _iso(e.at), "action": e.action}
        for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id).limit(5000)
        )
    ]
    audit.record("export", "user", user.id, {"kind": "host_self"})
    return data


ERASED_DOMAIN = "erased.invalid"


def erase_account(user: User) -> str:
    """Erase the host's account (GDPR art. 17): refused while hosting; returns 'deleted' or 'pseudonymised'.

    A household with placement history is referenced by those placements (kept for the families' records
    and statistics), so its row and the account row are pseudonymised instead of deleted.
    """
    household = user.host
    if household is not None and has_active_placement(household):
        raise HostError(
            _(
                "A family lives with you now, so your account cannot be erased yet. Contact your "
                "coordinator; once the stay has ended you can erase your account here."
            )
        )
    addresses = {user.email} | ({household.email} if household is not None else set())
    if household is not None:
        # Open proposals die with the offer; the family goes back to the queue.
        for p in db.session.scalars(
            sa.select(Proposal).where(
                Proposal.host_id == household.id,
                Proposal.state.in_(
                    [
                        s.value
                        for s in (
                            ProposalState.PROPOSED,
                            ProposalState.APPROVED,
                            ProposalState.SENT,
                            ProposalState.ACCEPTED,
                        )
                    ]
                ),
            )
        ):
            p.state = ProposalState.WITHDRAWN.value
            if p.family.status == FamilyStatus.PROPOSED and p.family.active_placement is None:
                p.family.status = FamilyStatus.WAITING.value
    db.session.execute(sa.delete(EmailMessage).where(EmailMessage.to_addr.in_(addresses)))
    has_history = (
        household is not None
        and db.session.scalar(
            sa.select(sa.func.count()).select_from(Placement).where(Placement.host_id == household.id)
        )
        > 0
    )
    mode = "pseudonymised" if has_history else "deleted"
    audit.record("account_erased", "user", user.id, {"mode": mode}, actor=user)
    __import__("ebo.services.account_links", fromlist=["forget"]).forget(user)  # tokens, second factor
    if has_history:
        _pseudonymise(user, household)
    else:
        db.session.delete(user)  # the household, its visits, proposals and forbidden pairs go with it
    db.session.flush()
    return mode


def _pseudonymise(user: User, household: HostHousehold) -> None:
    tag = uuid.uuid4().hex[:12]
    for visit in list(household.home_visits):
        db.session.delete(visit)
    household.contact_name = household.street = household.town = household.phone = ""
    household.email = f"erased-{tag}@{ERASED_DOMAIN}"
    household.postal_code = ""
    household.lat = household.lon = None
    household.free_text = household.vetting_reason = None
    household.languages = []
    household.state = HostState.WITHDRAWN.value
    household.geocode_status = "not_found"
    household.consent_at = None
    db.session.execute(
        sa.update(Proposal)
        .where(Proposal.host_id == household.id)
        .values(decline_reason=None)
        .execution_options(synchronize_session=False)
    )
    user.email = f"erased-{tag}@{ERASED_DOMAIN}"
    user.name = ""
    user.locale = None
    user.active = False
    user.password_hash = accounts.hash_password(secrets.token_urlsafe(32))
    user.rotate_session_token()


# --- vetting (coordinators) ----------------------------------------------------------------------------

VETTING_QUEUE_STATES = (VettingStatus.REGISTERED.value, VettingStatus.VISITED.value)


def vetting_queue(status: str | None = None) -> sa.Select:
    """Hosts waiting for a home visit or a decision, oldest first (withdrawn offers left out)."""
    states = (status,) if status in VETTING_QUEUE_STATES else VETTING_QUEUE_STATES
    return (
        sa.select(HostHousehold)
        .where(HostHousehold.vetting_status.in_(states), HostHousehold.state != HostState.WITHDRAWN.value)
        .order_by(HostHousehold.created_at, HostHousehold.id)
    )


def record_visit(
    household: HostHousehold, visited_on: date, visited_by: str, outcome: str, notes: str | None, actor: User
):
    """Record a home visit; a registered host becomes 'visited'; audited (no personal values)."""
    from ebo.models import HomeVisit, VisitOutcome

    if visited_on > date.today():
        raise HostError(_("The visit date cannot be in the future."))
    if outcome not in {o.value for o in VisitOutcome}:
        raise HostError(_("Choose an outcome."))
    visit = HomeVisit(
        host_id=household.id,
        visited_on=visited_on,
        visited_by_name=" ".join(visited_by.split()),
        outcome=outcome,
        notes=(notes or "").strip() or None,
        recorded_by=actor.id,
    )
    db.session.add(visit)
    if household.vetting_status == VettingStatus.REGISTERED:
        household.vetting_status = VettingStatus.VISITED.value
    db.session.flush()
    audit.record("home_visit_recorded", "host", household.id, {"outcome": outcome, "visit": str(visit.id)})
    return visit


def regeocode(household: HostHousehold) -> bool:
    """Look the address up again (a coordinator's action); audited with the outcome only."""
    found = geocode.geocode_household(household)
    audit.record("host_geocoded", "host", household.id, {"status": household.geocode_status})
    return found


def decide(household: HostHousehold, approve: bool, reason: str | None, actor: User) -> None:
    """Approve (after a home visit) or reject a host, with the reason; approval emails the host; audited."""
    reason = (reason or "").strip() or None
    if approve and household.vetting_status != VettingStatus.VISITED:
        raise HostError(_("Record the home visit before approving."))
    if not approve and household.vetting_status not in VETTING_QUEUE_STATES:
        raise HostError(_("Only hosts waiting for vetting can be rejected here."))
    if not approve and not reason:
        raise HostError(_("Give the reason for the rejection."))
    household.vetting_status = (VettingStatus.APPROVED if approve else VettingStatus.REJECTED).value
    household.vetting_decided_by = actor.id
    household.vetting_decided_at = utcnow()
    household.vetting_reason = reason
    db.session.flush()
    audit.record("host_approved" if approve else "host_rejected", "host", household.id)
    if approve:
        notify_approved(household)
