"""Placements: confirming a proposal into one, follow-up visits, ending, and the list, detail and export.

Over 400 lines on purpose: it is everything about one placement's life from confirmation to its end,
and the list and export that social services read; each part is short and marked by a heading.

`confirm` can never double-book: it takes the family row first (guarded update), then the proposal
(guarded update from a confirmable state), then the host's or unit's beds (`capacity`'s guarded
update), then inserts the placement (a partial unique index allows one active placement per family).
It runs in a savepoint: on a conflict only its own work is undone, never the request's earlier work.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ebo.clock import today
from ebo.extensions import db
from ebo.models import (
    EndReason,
    Family,
    FamilyMember,
    FamilyStatus,
    FollowUpVisit,
    HostHousehold,
    HousingUnit,
    MemberKind,
    Placement,
    Proposal,
    Route,
    School,
)
from ebo.models.matching import OPEN_STATES, ProposalState, confirmable_states
from ebo.models.types import add_months, utcnow
from ebo.services import audit, capacity, figures_cache, hosts
from matching.geo import haversine_km

PER_PAGE = 25
STATUSES = ("active", "ended", "all")
FIRST_VISIT_DAYS = 7
NOTE_MAX = 2000


class PlacementError(Exception):
    """The placement cannot be changed this way (for instance, it has already ended)."""


# --- confirming a proposal --------------------------------------------------------------------


def confirm(proposal_id: uuid.UUID, actor, start: dt.date | None = None) -> Placement:
    """Confirm a proposal into a placement in one savepoint; on conflict undo it and raise PlacementError."""
    # Locks are taken in the same order in every transaction, so concurrent confirms never deadlock:
    # the family row (guarded update: still waiting or proposed), the proposal (guarded update from its
    # confirmable state), the beds (guarded update), the placement (partial unique index), and last
    # the family's other open proposals (withdrawn).
    prop = db.session.get(Proposal, proposal_id)
    if prop is None:
        raise PlacementError(_l("The proposal does not exist."))
    if not prop.can_confirm():
        raise PlacementError(_l("Only a proposal the host has accepted can be confirmed."))
    try:
        with db.session.begin_nested():
            placement = _confirm(prop, actor, start)
    except capacity.CapacityError:
        raise PlacementError(
            _l("Not confirmed: the host or unit no longer has room for this family. Nothing was changed.")
        ) from None
    except IntegrityError:
        raise PlacementError(
            _l("Not confirmed: the family already has an active placement. Nothing was changed.")
        ) from None
    db.session.expire_all()
    return placement


def _confirm(prop: Proposal, actor, start: dt.date | None) -> Placement:
    family_id, host_id, unit_id = prop.family_id, prop.host_id, prop.unit_id
    took = db.session.execute(
        sa.update(Family)
        .where(Family.id == family_id, Family.status.in_((FamilyStatus.WAITING, FamilyStatus.PROPOSED)))
        .values(status=FamilyStatus.PLACED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if took != 1:
        raise PlacementError(_l("The family already has a place (or is no longer waiting)."))
    done = db.session.execute(
        sa.update(Proposal)
        .where(Proposal.id == prop.id, Proposal.state.in_(confirmable_states(unit_id is not None)))
        .values(state=ProposalState.CONFIRMED, confirmed_at=utcnow(), decided_by=getattr(actor, "id", None))
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise PlacementError(_l("Only a proposal the host has accepted can be confirmed."))
    persons = capacity.persons_of(family_id)
    if host_id is not None:
        capacity.reserve_host(host_id, persons)
    else:
        capacity.reserve_unit(unit_id, persons)
    needed = db.session.scalar(sa.select(Family.needed_from).where(Family.id == family_id))
    placement = Placement(
        family_id=family_id,
        host_id=host_id,
        unit_id=unit_id,
        proposal_id=prop.id,
        persons=persons,
        start_date=start or max(needed or today(), today()),
        confirmed_by=getattr(actor, "id", None),
    )
    db.session.add(placement)
    db.session.flush()
    db.session.execute(
        sa.update(Proposal)
        .where(Proposal.family_id == family_id, Proposal.id != prop.id, Proposal.state.in_(OPEN_STATES))
        .values(state=ProposalState.WITHDRAWN)
        .execution_options(synchronize_session=False)
    )
    audit.record("placement_confirm", "placement", placement.id, {"proposal": str(prop.id)}, actor=actor)
    plan_follow_ups(placement)
    db.session.flush()
    return placement


# --- follow-up visits --------------------------------------------------------------------------


def plan_dates(start: dt.date, through: dt.date) -> list[dt.date]:
    """Follow-up dates from `start`: one in the first week, then monthly, up to `through`."""
    dates = []
    first = start + dt.timedelta(days=FIRST_VISIT_DAYS)
    if first <= through:
        dates.append(first)
    month = 1
    while (d := add_months(start, month)) <= through:
        dates.append(d)
        month += 1
    return dates


def _horizon(placement, on: dt.date) -> dt.date:
    """The last date to plan visits for: a month ahead while active, the end date once ended."""
    if placement.end_date is not None:
        return placement.end_date
    return max(add_months(on, 1), placement.start_date + dt.timedelta(days=FIRST_VISIT_DAYS))


def plan_follow_ups(placement, through: dt.date | None = None) -> int:
    """Store a planned visit for each scheduled date not yet stored (idempotent); return how many."""
    through = through or _horizon(placement, today())
    added = 0
    for d in _scheduled_after_stored(placement, through):
        placement.follow_ups.append(FollowUpVisit(planned_on=d))
        added += 1
    db.session.flush()
    return added


@dataclass
class Visit:
    """A follow-up visit as shown: planned (stored or from the schedule), done or overdue."""

    planned_on: dt.date
    done_on: dt.date | None = None
    notes: str | None = None
    overdue: bool = False
    stored: bool = False


def _scheduled_after_stored(placement, through: dt.date) -> list[dt.date]:
    """Scheduled dates up to `through` after the last stored visit: a stored plan is kept, the schedule extends it."""
    last = max((v.planned_on for v in placement.follow_ups), default=None)
    return [d for d in plan_dates(placement.start_date, through) if last is None or d > last]


def visits(placement, on: dt.date | None = None) -> list[Visit]:
    """The placement's stored visits, extended by the schedule up to the horizon; overdue ones marked."""
    on = on or today()
    by_date: dict[dt.date, Visit] = {}
    if placement.end_date is None:  # an ended stay shows the visits made, nothing more is planned
        for d in _scheduled_after_stored(placement, _horizon(placement, on)):
            by_date[d] = Visit(planned_on=d)
    for v in placement.follow_ups:
        by_date[v.planned_on] = Visit(planned_on=v.planned_on, done_on=v.done_on, notes=v.notes, stored=True)
    out = sorted(by_date.values(), key=lambda v: v.planned_on)
    for v in out:
        v.overdue = placement.end_date is None and v.done_on is None and v.planned_on < on
    return out


def is_overdue(placement, on: dt.date | None = None) -> bool:
    """True if an active placement has a planned visit before today that was not done."""
    return any(v.overdue for v in visits(placement, on))


@dataclass
class _Schedule:
    """What the visit schedule of a placement reads (`visits`), loaded as columns rather than objects."""

    id: uuid.UUID
    start_date: dt.date
    end_date: dt.date | None
    follow_ups: list


def _active_schedules() -> list[_Schedule]:
    """The active placements' dates and stored visits: two column queries, whatever their number."""
    out = {pid: _Schedule(pid, start, end, []) for pid, start, end in db.session.execute(
        sa.select(Placement.id, Placement.start_date, Placement.end_date).where(Placement.end_date.is_(None)))}
    if out:
        for v in db.session.execute(
                sa.select(FollowUpVisit.placement_id, FollowUpVisit.planned_on, FollowUpVisit.done_on,
                          FollowUpVisit.notes)
                .join(Placement, Placement.id == FollowUpVisit.placement_id).where(Placement.end_date.is_(None))):
            out[v.placement_id].follow_ups.append(v)
    return list(out.values())


def _next_planned(start: dt.date, last: dt.date | None) -> dt.date:
    """The first date of the schedule from `start` after `last` (the last stored visit; None: none stored)."""
    first = start + dt.timedelta(days=FIRST_VISIT_DAYS)
    if last is None or first > last:
        return first
    months = max(1, (last.year - start.year) * 12 + last.month - start.month)
    d = add_months(start, months)  # in the month of `last` (or the first monthly date)
    return d if d > last else add_months(start, months + 1)


def _has_overdue(schedule: _Schedule, on: dt.date) -> bool:
    """`is_overdue` of an active placement without listing its visits: a stored visit not done before `on`,
    or the schedule's next date after the last stored one before `on` (the horizon is a month past `on`)."""
    if any(v.done_on is None and v.planned_on < on for v in schedule.follow_ups):
        return True
    last = max((v.planned_on for v in schedule.follow_ups), default=None)
    return _next_planned(schedule.start_date, last) < on


def overdue_ids(on: dt.date | None = None) -> set[uuid.UUID]:
    """Ids of active placements with an overdue follow-up visit."""
    on = on or today()
    return {p.id for p in _active_schedules() if _has_overdue(p, on)}


def due_counts(on: dt.date | None = None) -> dict[str, int]:
    """Follow-up visits of active placements: overdue, due within 7 days, due within 30 days."""
    on = on or today()
    counts = {"overdue": 0, "week": 0, "month": 0}
    for p in _active_schedules():
        for v in visits(p, on):
            if v.done_on is not None:
                continue
            if v.overdue:
                counts["overdue"] += 1
            elif v.planned_on <= on + dt.timedelta(days=7):
                counts["week"] += 1
            elif v.planned_on <= on + dt.timedelta(days=30):
                counts["month"] += 1
    return counts


def open_visit_dates(placement, on: dt.date | None = None) -> list[dt.date]:
    """Planned dates not yet done, up to a month ahead: the choices for recording a visit."""
    return [v.planned_on for v in visits(placement, on) if v.done_on is None]


def record_visit(placement, planned_on: dt.date, done_on: dt.date, notes: str | None, actor=None) -> None:
    """Record a follow-up visit as done (the planned slot is stored if it was only in the schedule)."""
    if done_on < placement.start_date:
        raise PlacementError("before start")
    visit = next((v for v in placement.follow_ups if v.planned_on == planned_on), None)
    if visit is None:
        visit = FollowUpVisit(planned_on=planned_on)
        placement.follow_ups.append(visit)
    if visit.done_on is not None:
        raise PlacementError("already done")
    visit.done_on = done_on
    visit.notes = (notes or "").strip()[:NOTE_MAX] or None
    visit.by_user = getattr(actor, "id", None)
    db.session.flush()
    audit.record("follow_up_done", "placement", placement.id, {"visit_id": str(visit.id)}, actor=actor)


def record_unplanned_visit(placement, done_on: dt.date, notes: str | None, actor=None) -> None:
    """Record a follow-up visit that was not planned (the schedule up to that day is stored first)."""
    if done_on < placement.start_date:
        raise PlacementError("before start")
    plan_follow_ups(placement, through=done_on)  # the plan before the visit stays as it was
    visit = FollowUpVisit(planned_on=done_on, done_on=done_on, by_user=getattr(actor, "id", None),
                          notes=(notes or "").strip()[:NOTE_MAX] or None)
    placement.follow_ups.append(visit)
    db.session.flush()
    audit.record("follow_up_done", "placement", placement.id, {"visit_id": str(visit.id), "unplanned": True},
                 actor=actor)


# --- ending a placement ------------------------------------------------------------------------


def end_placement(placement, end_date: dt.date, reason: str, still_needs_housing: bool,
                  note: str | None = None, actor=None) -> None:
    """End an active placement: beds come back, the family waits again or has moved on; audited."""
    if reason not in set(EndReason):
        raise PlacementError("unknown reason")
    if end_date < placement.start_date:
        raise PlacementError("end before start")
    # A guarded update: of two concurrent requests, only one ends the placement and releases the beds.
    result = db.session.execute(
        sa.update(Placement)
        .where(Placement.id == placement.id, Placement.end_date.is_(None))
        .values(end_date=end_date, end_reason=reason, end_note=(note or "").strip()[:NOTE_MAX] or None,
                ended_by=getattr(actor, "id", None))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise PlacementError("already ended")
    db.session.expire(placement, ["end_date", "end_reason", "end_note", "ended_by"])
    if placement.host_id is not None:
        capacity.release_host(placement.host_id, placement.persons)
    else:
        capacity.release_unit(placement.unit_id, placement.persons)
    family = placement.family
    family.status = FamilyStatus.WAITING if still_needs_housing else FamilyStatus.MOVED_ON
    # Visits planned but not made are cleared: nobody visits a stay that has ended.
    for visit in [v for v in placement.follow_ups if v.done_on is None]:
        placement.follow_ups.remove(visit)
    if placement.host is not None:
        hosts.ask_another_family(placement.host)
    db.session.flush()
    audit.record("placement_end", "placement", placement.id,
                 {"family_id": str(placement.family_id), "persons": placement.persons,
                  "place": "host" if placement.host_id else "unit"}, actor=actor)


# --- the list ------------------------------------------------------------------------------------


@dataclass
class Filters:
    """The list's filters and sort order, each checked against an allowlist."""

    status: str = "active"
    school: uuid.UUID | None = None
    area: str = ""
    route: str = ""
    overdue: bool = False
    sort: str = "start"
    desc: bool = True
    page: int = 1

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (no page)."""
        args = {"status": self.status, "sort": self.sort, "dir": "desc" if self.desc else "asc"}
        if self.school:
            args["school"] = str(self.school)
        if self.area:
            args["area"] = self.area
        if self.route:
            args["route"] = self.route
        if self.overdue:
            args["overdue"] = "1"
        return args

    def audit_details(self) -> dict[str, str]:
        """The filters for the audit log: codes and ids only."""
        return {k: v for k, v in self.as_args().items() if k not in {"sort", "dir"}}


def _last_visit_subquery():
    """The date of a placement's latest visit done, as a correlated subquery."""
    return (sa.select(sa.func.max(FollowUpVisit.done_on))
            .where(FollowUpVisit.placement_id == Placement.id)
            .correlate_except(FollowUpVisit).scalar_subquery())


def sort_columns() -> dict[str, object]:
    """The allowlist of sort keys and the column each sorts by."""
    return {
        "start": Placement.start_date,
        "end": Placement.end_date,
        "family": Family.contact_name,
        "persons": Placement.persons,
        "area": sa.func.coalesce(HostHousehold.postal_code, HousingUnit.postal_code),
        "last_visit": _last_visit_subquery(),
    }


SORT_KEYS = ("start", "end", "family", "persons", "area", "last_visit")


def parse_filters(args) -> Filters:
    """Read the filters from request arguments; anything not on an allowlist is ignored."""
    f = Filters()
    status = args.get("status", "active")
    f.status = status if status in STATUSES else "active"
    try:
        f.school = uuid.UUID(args.get("school", "")) if args.get("school") else None
    except ValueError:
        f.school = None
    area = (args.get("area") or "").strip()
    f.area = area if len(area) == 3 and area.isdigit() and area.isascii() else ""
    route = args.get("route", "")
    f.route = route if route in set(Route) else ""
    f.overdue = args.get("overdue") in {"1", "on", "y"}
    sort = args.get("sort", "start")
    f.sort = sort if sort in SORT_KEYS else "start"
    f.desc = args.get("dir", "desc") != "asc"
    try:
        f.page = max(1, min(int(args.get("page", 1)), 100_000))
    except (TypeError, ValueError):
        f.page = 1
    return f


def _load_options() -> tuple:
    """Eager loads for showing placements: family, members and schools, host or unit, proposal, visits."""
    return (selectinload(Placement.family).selectinload(Family.members).selectinload(FamilyMember.school),
            selectinload(Placement.host), selectinload(Placement.unit), selectinload(Placement.proposal),
            selectinload(Placement.follow_ups))


def filter_choices() -> tuple[list, list[str]]:
    """The schools (id, name) and routes offered as filters."""
    schools = db.session.execute(sa.select(School.id, School.name).order_by(School.name)).all()
    return schools, [r.value for r in Route]


def list_query(f: Filters, on: dt.date | None = None, *, ids_only: bool = False):
    """The SELECT of placements matching the filters, in the chosen order (with `ids_only`, of their ids)."""
    q = sa.select(Placement.id if ids_only else Placement)
    # Joined only when a filter or the order reads them: a placement always has its family (a foreign key,
    # not null) and at most one host and one unit, so the joins never change the rows, only the cost (the
    # count and the page would otherwise each read all 20,000 families).
    if f.route or f.sort == "family":
        q = q.join(Family, Placement.family_id == Family.id)
    if f.area or f.sort == "area":
        q = (q.outerjoin(HostHousehold, Placement.host_id == HostHousehold.id)
             .outerjoin(HousingUnit, Placement.unit_id == HousingUnit.id))
    if not ids_only:
        q = q.options(*_load_options())
    if f.status == "active":
        q = q.where(Placement.end_date.is_(None))
    elif f.status == "ended":
        q = q.where(Placement.end_date.is_not(None))
    if f.school:
        q = q.where(Placement.family_id.in_(
            sa.select(FamilyMember.family_id).where(FamilyMember.school_id == f.school)))
    if f.area:
        q = q.where(sa.or_(sa.func.substr(HostHousehold.postal_code, 1, 3) == f.area,
                           sa.func.substr(HousingUnit.postal_code, 1, 3) == f.area))
    if f.route:
        q = q.where(Family.route == f.route)
    if f.overdue:
        q = q.where(Placement.id.in_(overdue_ids(on) or {uuid.UUID(int=0)}))
    column = sort_columns()[f.sort]
    order = column.desc() if f.desc else column.asc()
    return q.order_by(sa.nulls_last(order), Placement.id)


def list_page(f: Filters, on: dt.date | None = None):
    """One page of placements (a Flask-SQLAlchemy Pagination) whose items are `ListRow`s.

    The page's ids are read in the list's order, then what the rows show is read as columns (one query for
    the placements with their family, place and proposal, one for the children, one for the visits)
    rather than as objects with their relationships: a fraction of the work for the same table."""
    on = on or today()
    page = db.paginate(list_query(f, on, ids_only=True), page=f.page, per_page=PER_PAGE, error_out=False)
    page.items = list_rows(page.items, on)
    return page


@dataclass
class ListFamily:
    """What the list shows of a placement's family (as `family_label` reads it)."""

    contact_name: str
    reference: str
    pseudonymised_at: dt.datetime | None


@dataclass
class ListRow:
    """One row of the placements list, read as columns."""

    id: uuid.UUID
    family: ListFamily
    persons: int
    host_id: uuid.UUID | None
    host_reference: str | None
    start_date: dt.date
    end_date: dt.date | None
    place_name: str
    address: str
    schools: list
    last_visit: dt.date | None
    overdue: bool

    @property
    def is_active(self) -> bool:
        """Whether the placement has not ended."""
        return self.end_date is None


def list_rows(ids: list[uuid.UUID], on: dt.date) -> list[ListRow]:
    """The list's rows for these placement ids, in their order: three column queries, whatever their number."""
    H, U = HostHousehold, HousingUnit
    rows = {r.id: r for r in db.session.execute(
        sa.select(Placement.id, Placement.family_id, Placement.host_id, Placement.persons, Placement.start_date,
                  Placement.end_date, Family.contact_name, Family.reference, Family.pseudonymised_at,
                  H.contact_name.label("host_name"), H.reference.label("host_reference"),
                  sa.func.coalesce(H.street, U.street).label("street"),
                  sa.func.coalesce(H.postal_code, U.postal_code).label("postal_code"),
                  sa.func.coalesce(H.town, U.town).label("town"),
                  U.id.label("unit_id"), U.name.label("unit_name"),
                  sa.case((H.id.is_not(None), H.lat), else_=U.lat).label("lat"),
                  sa.case((H.id.is_not(None), H.lon), else_=U.lon).label("lon"),
                  Proposal.child_km)
        .join(Family, Placement.family_id == Family.id)
        .outerjoin(H, Placement.host_id == H.id).outerjoin(U, Placement.unit_id == U.id)
        .outerjoin(Proposal, Placement.proposal_id == Proposal.id)
        .where(Placement.id.in_(ids)))}
    children: dict[uuid.UUID, list] = {}
    for c in db.session.execute(
            sa.select(FamilyMember.family_id, FamilyMember.birth_year, School.name, School.lat, School.lon)
            .outerjoin(School, FamilyMember.school_id == School.id)
            .where(FamilyMember.family_id.in_({r.family_id for r in rows.values()}),
                   FamilyMember.kind == MemberKind.CHILD)
            .order_by(FamilyMember.family_id, FamilyMember.position)):
        children.setdefault(c.family_id, []).append(c)
    schedules = {pid: _Schedule(pid, r.start_date, r.end_date, []) for pid, r in rows.items()}
    for v in db.session.execute(
            sa.select(FollowUpVisit.placement_id, FollowUpVisit.planned_on, FollowUpVisit.done_on,
                      FollowUpVisit.notes).where(FollowUpVisit.placement_id.in_(ids))):
        schedules[v.placement_id].follow_ups.append(v)
    out = []
    for pid in ids:
        r = rows[pid]
        place = (r.lat, r.lon) if r.host_id is not None or r.unit_id is not None else None
        kids = [(c.birth_year, c.name, c.lat, c.lon) for c in children.get(r.family_id, [])]
        done = [v.done_on for v in schedules[pid].follow_ups if v.done_on is not None]
        town = " ".join(x for x in (r.postal_code, r.town) if x)
        out.append(ListRow(
            id=pid, family=ListFamily(r.contact_name, r.reference, r.pseudonymised_at), persons=r.persons,
            host_id=r.host_id, host_reference=r.host_reference, start_date=r.start_date, end_date=r.end_date,
            place_name=r.host_name if r.host_id is not None else (r.unit_name or ""),
            address=", ".join(p for p in (r.street, town) if p) if place is not None else "",
            schools=_child_schools(place, r.child_km, kids), last_visit=max(done) if done else None,
            overdue=is_overdue(schedules[pid], on)))
    return out


# --- one placement: rows for the list, the detail -----------------------------------------------


@dataclass
class ChildSchool:
    """A child's school and its distance from where the family lives."""

    birth_year: int | None
    school_name: str | None
    km: float | None


def child_schools(placement) -> list[ChildSchool]:
    """Each child's school and distance: from the confirmed proposal, else computed from coordinates."""
    place = placement.host or placement.unit
    kids = [(c.birth_year, c.school.name, c.school.lat, c.school.lon) if c.school is not None
            else (c.birth_year, None, None, None) for c in placement.family.children]
    return _child_schools(None if place is None else (place.lat, place.lon),
                          placement.proposal.child_km if placement.proposal is not None else None, kids)


def _child_schools(place: tuple | None, child_km, kids: list[tuple]) -> list[ChildSchool]:
    """`child_schools` from plain values: the place's (lat, lon), the proposal's distances, and each child's
    (birth year, school name, school lat, school lon), the name None for a child without a school."""
    stored = list(child_km or [])
    out = []
    for i, (birth_year, school, lat, lon) in enumerate(kids):
        km = stored[i] if len(stored) == len(kids) else None
        if km is None and school is not None and place is not None and None not in (lat, lon, *place):
            km = haversine_km(place[0], place[1], lat, lon)
        out.append(ChildSchool(birth_year, school, None if school is None or km is None else round(float(km), 1)))
    return out


def last_visit(placement) -> dt.date | None:
    """The date of the latest follow-up visit done."""
    done = [v.done_on for v in placement.follow_ups if v.done_on is not None]
    return max(done) if done else None


def place_name(placement) -> str:
    """The host's contact name or the unit's name."""
    if placement.host is not None:
        return placement.host.contact_name
    return placement.unit.name if placement.unit is not None else ""


def address(placement) -> str:
    """Street, postal code and town of the host or unit."""
    place = placement.host or placement.unit
    if place is None:
        return ""
    town = " ".join(x for x in (place.postal_code, place.town) if x)
    return ", ".join(p for p in (place.street, town) if p)


def get(placement_id: uuid.UUID):
    """The placement with its family, place and visits loaded, or None."""
    return db.session.scalar(
        sa.select(Placement).where(Placement.id == placement_id)
        .options(*_load_options()))


def proposal_history(family_id: uuid.UUID) -> list:
    """Every proposal made for the family, newest first."""
    return db.session.scalars(
        sa.select(Proposal).where(Proposal.family_id == family_id)
        .options(selectinload(Proposal.host), selectinload(Proposal.unit))
        .order_by(Proposal.created_at.desc())).all()


def view_family(placement, actor=None) -> None:
    """Write the read-access log entry for viewing the placement's family."""
    audit.record("view_family", "family", placement.family_id, {"via": "placement"}, actor=actor)


# --- export --------------------------------------------------------------------------------------

from ebo.services.csvio import FORMULA_START, safe_cell  # noqa: E402, F401, I001 (one rule for every export)


EXPORT_HEADER = ("placement_id", "family_id", "family", "persons", "adults", "children", "route", "place",
                 "kind", "address", "postal_area", "schools_km", "start_date", "end_date", "end_reason",
                 "last_follow_up", "follow_up_overdue", "family_reference", "host_reference")


def export_csv(f: Filters, actor=None, on: dt.date | None = None) -> tuple[str, int]:
    """All placements matching the filters as formula-safe CSV; audited as "export". Returns (text, rows)."""
    on = on or today()
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL)  # every field quoted, each made safe by safe_cell
    writer.writerow(EXPORT_HEADER)
    rows = db.session.scalars(list_query(f, on)).all()
    for p in rows:
        fam = p.family
        place = p.host or p.unit
        area = (place.postal_code or "")[:3] if place is not None else ""
        schools = "; ".join(f"{c.school_name} {c.km if c.km is not None else '?'} km"
                            for c in child_schools(p) if c.school_name)
        writer.writerow([safe_cell(x) for x in (
            p.id, fam.id, fam.contact_name, p.persons, len(fam.adults), len(fam.children), fam.route,
            place_name(p), "host" if p.host_id else "unit", address(p), area, schools, p.start_date,
            p.end_date or "", p.end_reason or "", last_visit(p) or "", "yes" if is_overdue(p, on) else "no",
            fam.reference, p.host.reference if p.host is not None else "")])
    audit.record("export", "placements", None, {"rows": len(rows), "filters": f.audit_details()}, actor=actor)
    return buf.getvalue(), len(rows)


# --- overview ------------------------------------------------------------------------------------


def overview_figures(on: dt.date, max_km: float) -> tuple[list[tuple[dt.date, int, int]], dict, dict]:
    """The placements overview's figures: persons housed over the last 12 months, children by school distance,
    follow-up visits due (over every active placement, so kept a short while: figures_cache)."""
    return figures_cache.cached("placements.overview", (on, max_km), lambda: (
        housed_over_time(on), children_by_distance(max_km), due_counts(on)))


def housed_on(day: dt.date, rows) -> tuple[int, int]:
    """Persons housed in homes and in units on `day`, from (start, end, persons, in_home) rows."""
    homes = units = 0
    for start, end, persons, in_home in rows:
        if start <= day and (end is None or end > day):
            if in_home:
                homes += persons
            else:
                units += persons
    return homes, units


def housed_over_time(on: dt.date | None = None, months: int = 12) -> list[tuple[dt.date, int, int]]:
    """Persons housed in homes and in units on the same day of each of the last `months` months."""
    on = on or today()
    days = [add_months(on, -k) for k in range(months - 1, -1, -1)]
    rows = db.session.execute(
        sa.select(Placement.start_date, Placement.end_date, Placement.persons, Placement.host_id.is_not(None))
        .where(Placement.start_date <= on, sa.or_(Placement.end_date.is_(None), Placement.end_date > days[0]))
    ).all()
    return [(d, *housed_on(d, rows)) for d in days]


def children_by_distance(max_km: float) -> dict[str, int]:
    """Children in active placements: within or beyond `max_km` of school, distance unknown, or no school.

    Read as one row per child (columns only, no objects), with the same rule as `child_schools`: the
    confirmed proposal's stored distances when it has one per child, else computed from coordinates."""
    H, U, S = sa.orm.aliased(HostHousehold), sa.orm.aliased(HousingUnit), sa.orm.aliased(School)
    rows = db.session.execute(
        sa.select(Placement.id, Proposal.child_km, FamilyMember.school_id, S.lat, S.lon,
                  sa.func.coalesce(H.lat, U.lat), sa.func.coalesce(H.lon, U.lon), Placement.host_id, Placement.unit_id)
        .select_from(Placement)
        .join(FamilyMember, sa.and_(FamilyMember.family_id == Placement.family_id,
                                    FamilyMember.kind == MemberKind.CHILD))
        .outerjoin(S, S.id == FamilyMember.school_id)
        .outerjoin(Proposal, Proposal.id == Placement.proposal_id)
        .outerjoin(H, H.id == Placement.host_id).outerjoin(U, U.id == Placement.unit_id)
        .where(Placement.end_date.is_(None)).order_by(Placement.id, FamilyMember.position)).all()
    by_placement: dict[uuid.UUID, list] = {}
    for r in rows:
        by_placement.setdefault(r[0], []).append(r)
    counts = {"within": 0, "beyond": 0, "unknown": 0, "no_school": 0}
    for children in by_placement.values():
        stored = list(children[0][1] or [])
        for i, (_pid, _km, school_id, s_lat, s_lon, p_lat, p_lon, host_id, unit_id) in enumerate(children):
            if school_id is None:
                counts["no_school"] += 1
                continue
            km = stored[i] if len(stored) == len(children) else None
            if km is None and (host_id or unit_id) and None not in (s_lat, s_lon, p_lat, p_lon):
                km = haversine_km(p_lat, p_lon, s_lat, s_lon)
            if km is None:
                counts["unknown"] += 1
            elif round(float(km), 1) <= max_km:
                counts["within"] += 1
            else:
                counts["beyond"] += 1
    return counts
