"""A family's matching profile: what a coordinator may see to act on a family, and the "latest matching"
section of the caseworker's family page.

It holds the household's shape, ages, languages by name, needs, schools and distances, the proposals
made for the family and why the latest run did not place it. It never holds the contact's name or
surname, the dossier number, the caseworker's notes or the health note (docs/security.md: data
minimisation). Viewing it is written to the read-access log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ebo.clock import today
from ebo.extensions import db
from ebo.languages import LANGUAGE_NAMES
from ebo.models import Family, FamilyStatus, MatchingRun, Proposal, RunKind, RunState
from ebo.services import audit
from ebo.services.review import host_label, needs_words
from ebo.services.unplaced import reasons_for_family, school_names


@dataclass
class ChildLine:
    """A child: age this year, school and the distance to school from the latest proposed home."""

    age: int | None
    school: str | None
    km: float | None


@dataclass
class HistoryLine:
    """One proposal made for the family: when, where, and what became of it."""

    run_id: uuid.UUID
    made_at: datetime
    place: str
    host_id: uuid.UUID | None
    is_unit: bool
    state: str
    reason: str | None


@dataclass
class LatestRun:
    """The latest finished run and what it did for the family."""

    run: MatchingRun
    took_part: bool
    proposed: bool
    reasons: list[str] = field(default_factory=list)


@dataclass
class MatchingProfile:
    """Everything the matching profile shows (no names, dossier number, notes or health details)."""

    family_id: uuid.UUID
    reference: str
    status: str
    needed_from: date
    waiting_days: int
    size: int
    adults: int
    children: list[ChildLine]
    languages: list[str]
    needs: list[str]
    history: list[HistoryLine]
    latest: LatestRun | None


def language_names(codes) -> list[str]:
    """Language codes as names in the current language (an unknown code is shown as it is)."""
    return [str(LANGUAGE_NAMES.get(c, c)) for c in codes or []]


def _latest_run() -> MatchingRun | None:
    return db.session.scalar(
        sa.select(MatchingRun)
        .where(MatchingRun.kind == RunKind.MATCH, MatchingRun.state == RunState.DONE)
        .order_by(MatchingRun.created_at.desc())
        .limit(1)
    )


def _latest(family: Family, proposals: list[Proposal]) -> LatestRun | None:
    run = _latest_run()
    if run is None:
        return None
    proposed = any(p.run_id == run.id for p in proposals)
    key = str(family.id)
    took_part = proposed or key in (run.instance_json or "")
    reasons: list[str] = []
    if not proposed:
        reasons = reasons_for_family(run, family.id)
    return LatestRun(run=run, took_part=took_part, proposed=proposed, reasons=reasons)


def matching_profile(family: Family) -> MatchingProfile:
    """The family's matching profile."""
    proposals = list(
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.family_id == family.id)
            .options(selectinload(Proposal.host), selectinload(Proposal.unit))
            .order_by(Proposal.created_at.desc())
        )
    )
    year = today().year
    schools = school_names(m.school_id for m in family.members)
    kms = list(proposals[0].child_km or []) if proposals else []
    children = [
        ChildLine(age=m.age_in(year), school=schools.get(m.school_id), km=kms[i] if i < len(kms) else None)
        for i, m in enumerate(family.children)
    ]
    history = [
        HistoryLine(
            run_id=p.run_id,
            made_at=p.created_at,
            place=host_label(p.host) if p.host is not None else (p.unit.name if p.unit is not None else "–"),
            host_id=p.host_id,
            is_unit=p.is_unit,
            state=p.state,
            reason=p.decline_reason,
        )
        for p in proposals
    ]
    return MatchingProfile(
        family_id=family.id,
        reference=family.reference,
        status=family.status,
        needed_from=family.needed_from,
        waiting_days=max(0, (today() - family.needed_from).days),
        size=family.size,
        adults=len(family.adults),
        children=children,
        languages=language_names(family.languages),
        needs=needs_words(family),
        history=history,
        latest=_latest(family, proposals),
    )


def record_view(family: Family, actor=None) -> None:
    """Write the read-access log entry for a view of the matching profile."""
    audit.record("view_family", "family", family.id, {"page": "profile"}, actor=actor)


# --- families waiting long (the coordinator's to-do) ----------------------------------------------------

WAITING_PER_PAGE = 25
LONG_WAIT_DAYS = 14  # the to-do lists' "waiting long"


@dataclass
class WaitingRow:
    """A family waiting for a home, as the coordinator's list shows it (the matching profile's words only)."""

    family_id: uuid.UUID
    reference: str
    needed_from: date
    waiting_days: int
    size: int
    adults: int
    child_ages: list[int | None]
    languages: list[str]
    needs: list[str]
    reasons: list[str] = field(default_factory=list)  # why the latest run did not place it


def waiting_since_day(days: int) -> date:
    """The last day a family may have needed a home from to count as waiting longer than `days` days."""
    from datetime import timedelta

    return today() - timedelta(days=days)


def waiting_page(days: int, page: int = 1, actor=None):
    """One page (a Pagination of WaitingRow) of the families waiting longer than `days` days, longest first.

    Each family shown is written to the read-access log, as a view of its matching profile is.
    """
    query = (
        sa.select(Family)
        .where(Family.status == FamilyStatus.WAITING, Family.needed_from <= waiting_since_day(days),
               Family.pseudonymised_at.is_(None))
        .options(selectinload(Family.members))
        .order_by(Family.needed_from, Family.reference)
    )
    pagination = db.paginate(query, page=max(1, page), per_page=WAITING_PER_PAGE, error_out=False)
    families = list(pagination.items)
    run = _latest_run()
    reasons: dict[uuid.UUID, list[str]] = {}
    if run is not None and families:
        from ebo.models import RunUnplaced
        from ebo.services.unplaced import in_words

        stored = list(db.session.scalars(sa.select(RunUnplaced).where(
            RunUnplaced.run_id == run.id, RunUnplaced.family_id.in_([f.id for f in families]))))
        reasons = {r.family_id: row.reasons for r, row in zip(stored, in_words(stored), strict=True)}
    year = today().year
    pagination.items = [
        WaitingRow(family_id=f.id, reference=f.reference, needed_from=f.needed_from,
                   waiting_days=max(0, (today() - f.needed_from).days), size=f.size, adults=len(f.adults),
                   child_ages=[m.age_in(year) for m in f.children], languages=language_names(f.languages),
                   needs=needs_words(f), reasons=reasons.get(f.id, []))
        for f in families
    ]
    for f in families:
        audit.record("view_family", "family", f.id, {"page": "waiting"}, actor=actor)
    return pagination
