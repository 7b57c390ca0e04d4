"""A host's own data: export of everything stored about them (GDPR art. 15) and erasure (art. 17)."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from ebo.extensions import db
from ebo.models import (
    AuditEvent,
    EmailMessage,
    FamilyStatus,
    GeocodeStatus,
    HostHousehold,
    HostState,
    Placement,
    Proposal,
    ProposalState,
    User,
)
from ebo.models.matching import HOST_VISIBLE_STATES, OPEN_STATES
from ebo.models.types import utcnow
from ebo.services import account_links, accounts, audit, erasure
from ebo.services.hosts import HostError, has_active_placement

ERASED_DOMAIN = "erased.invalid"


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
                sa.select(Proposal).where(
                    Proposal.host_id == household.id, Proposal.state.in_(sorted(HOST_VISIBLE_STATES))
                )
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
    data["activity"] = [
        {"at": _iso(e.at), "action": e.action}
        for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id).limit(5000)
        )
    ]
    audit.record("export", "user", user.id, {"kind": "host_self"})
    return data


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
                Proposal.state.in_(sorted(OPEN_STATES)),
            )
        ):
            p.state = ProposalState.WITHDRAWN
            if p.family.status == FamilyStatus.PROPOSED and p.family.active_placement is None:
                p.family.status = FamilyStatus.WAITING
    db.session.execute(sa.delete(EmailMessage).where(EmailMessage.to_addr.in_(addresses)))
    has_history = (
        household is not None
        and db.session.scalar(
            sa.select(sa.func.count()).select_from(Placement).where(Placement.host_id == household.id)
        )
        > 0
    )
    mode = "pseudonymised" if has_history else "deleted"
    erasure.scrub_host(household)  # the stored matching runs' copies
    audit.record("account_erased", "user", user.id, {"mode": mode}, actor=user)
    account_links.forget(user)  # emailed links and the second factor
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
    household.state = HostState.WITHDRAWN
    household.geocode_status = GeocodeStatus.NOT_FOUND
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
