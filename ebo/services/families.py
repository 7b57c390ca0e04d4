"""Families: registration, changes, status, health notes, the list query and the read-access log."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from ebo.clock import today as _today
from ebo.extensions import db
from ebo.languages import LANGUAGE_NAMES
from ebo.models import Family, FamilyMember, HealthNote, Placement, Proposal, School
from ebo.models.matching import LIVE_STATES
from ebo.models.types import add_months
from ebo.services import audit, capacity

# The languages offered on the form: one list shared with the hosts' form, so matching compares them.
LANGUAGES = LANGUAGE_NAMES

ROUTE_LABELS: dict[str, object] = {
    "anvisning": _l("Assigned by the Migration Agency (anvisning)"),
    "asylum_ebo": _l("Asylum seeker in own housing (EBO)"),
    "resident": _l("Already living in the municipality"),
    "other": _l("Other"),
}

ROUTE_SHORT: dict[str, object] = {
    "anvisning": _l("Anvisning"), "asylum_ebo": _l("Asylum (EBO)"), "resident": _l("Resident"), "other": _l("Other"),
}

STATUSES = ("waiting", "proposed", "placed", "moved_on")
MAX_MEMBERS = 20
DOSSIER_RE = re.compile(r"^(?=(?:\D*\d){4,10}\D*$)\d+(?:-\d+)?$")
PER_PAGE = 50


class FamilyError(ValueError):
    """A rule was broken; ``field`` names the form field."""

    def __init__(self, message, field: str = ""):
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass
class MemberData:
    """One person as entered: adult or child, first name, birth year, school id (children only)."""

    kind: str
    first_name: str | None = None
    birth_year: int | None = None
    school_id: uuid.UUID | None = None


@dataclass
class FamilyData:
    """A family as entered on the form or read from an import file."""

    contact_name: str
    needed_from: date
    route: str = "anvisning"
    dossier_number: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    languages: list[str] = field(default_factory=list)
    needs_step_free: bool = False
    pet_allergy: bool = False
    needs_non_smoking: bool = False
    notes: str | None = None
    members: list[MemberData] = field(default_factory=list)


def normalise_dossier(value: str | None) -> str | None:
    """Return the dossier number trimmed (spaces removed), or None when blank."""
    value = "".join((value or "").split())
    return value or None


def dossier_format_ok(value: str) -> bool:
    """True for 4–10 digits, optionally split once by a hyphen (the Migration Agency's format)."""
    return bool(DOSSIER_RE.match(value))


def dossier_key(value: str) -> str:
    """Return the digits only: '1234-5678' and '12345678' are the same dossier."""
    return value.replace("-", "")


def dossier_taken(value: str, exclude_id: uuid.UUID | None = None) -> bool:
    """True if another family already has this dossier number (hyphens ignored)."""
    query = sa.select(Family.id).where(sa.func.replace(Family.dossier_number, "-", "") == dossier_key(value))
    if exclude_id is not None:
        query = query.where(Family.id != exclude_id)
    return db.session.scalar(query.limit(1)) is not None


def existing_dossier_keys() -> set[str]:
    """Every dossier number in the database, digits only (for imports)."""
    rows = db.session.scalars(sa.select(Family.dossier_number).where(Family.dossier_number.is_not(None)))
    return {dossier_key(v) for v in rows}


MIN_ADULT_AGE = 18  # by birth year: an "adult" born later is probably a child
MAX_CHILD_AGE = 20  # by birth year: a "child" born earlier is probably an adult
NEEDED_FROM_MAX_YEARS = 2  # "housing needed from" further ahead than this is a typing mistake


def birth_year_problem(kind: str, birth_year: int | None, today: date) -> str | None:
    """Why a member's birth year is implausible for an adult or child (a translated message), or None."""
    if birth_year is None:
        return None
    if birth_year > today.year:
        return str(_l("The birth year %(year)d is in the future.", year=birth_year))
    if birth_year < 1900:
        return str(_l("Enter a birth year from 1900 to %(this)d.", this=today.year))
    if kind == "adult" and today.year - birth_year < MIN_ADULT_AGE:
        return str(_l("An adult born in %(year)d would be under %(age)d; is this person a child?",
                      year=birth_year, age=MIN_ADULT_AGE))
    if kind == "child" and today.year - birth_year > MAX_CHILD_AGE:
        return str(_l("A child born in %(year)d would be over %(age)d; is this person an adult?",
                      year=birth_year, age=MAX_CHILD_AGE))
    return None


def needed_from_problem(value: date | None, today: date) -> str | None:
    """Why a "housing needed from" date is implausible (a translated message), or None."""
    if value is None:
        return None
    latest = add_months(today, 12 * NEEDED_FROM_MAX_YEARS)
    if value > latest:
        return str(_l("The date is more than %(n)d years ahead; the latest is %(date)s.",
                      n=NEEDED_FROM_MAX_YEARS, date=format_date(latest)))
    if value.year < 2000:
        return str(_l("The date is not plausible."))
    return None


def check(data: FamilyData, exclude_id: uuid.UUID | None = None) -> None:
    """Raise FamilyError for the first broken rule of a family as a whole."""
    if data.dossier_number:
        if not dossier_format_ok(data.dossier_number):
            raise FamilyError(_l("A dossier number has 4 to 10 digits, optionally with one hyphen "
                                 "(for example 1234-5678)."), "dossier_number")
        if dossier_taken(data.dossier_number, exclude_id):
            raise FamilyError(_l("Another family already has this dossier number."), "dossier_number")
    if not any(m.kind == "adult" for m in data.members):
        raise FamilyError(_l("A family needs at least one adult."), "members")
    now = _today()
    for m in data.members:
        problem = birth_year_problem(m.kind, m.birth_year, now)
        if problem:
            raise FamilyError(problem, "members")
    problem = needed_from_problem(data.needed_from, now)
    if problem:
        raise FamilyError(problem, "needed_from")
    if len(data.members) > MAX_MEMBERS:
        raise FamilyError(_l("A family can have at most %(n)d members.", n=MAX_MEMBERS), "members")
    if data.route not in ROUTE_LABELS:
        raise FamilyError(_l("Choose a route of arrival."), "route")
    unknown = [code for code in data.languages if code not in LANGUAGES]
    if unknown:
        raise FamilyError(_l("Unknown language code."), "languages")


def _apply(family, data: FamilyData) -> None:

    family.contact_name = data.contact_name
    family.contact_phone = data.contact_phone or None
    family.contact_email = data.contact_email or None
    family.dossier_number = data.dossier_number or None
    family.route = data.route
    family.needed_from = data.needed_from
    family.languages = list(dict.fromkeys(data.languages))
    family.needs_step_free = bool(data.needs_step_free)
    family.pet_allergy = bool(data.pet_allergy)
    family.needs_non_smoking = bool(data.needs_non_smoking)
    family.notes = data.notes or None
    family.members.clear()
    for position, m in enumerate(data.members):
        family.members.append(FamilyMember(
            kind=m.kind, first_name=m.first_name or None, birth_year=m.birth_year,
            school_id=m.school_id if m.kind == "child" else None, position=position))


def create_family(data: FamilyData, actor=None, *, checked: bool = False, log: bool = True):
    """Register a family with its members (flushed, not committed)."""
    if not checked:
        check(data)
    family = Family(created_by=getattr(actor, "id", None), status="waiting")
    _apply(family, data)
    db.session.add(family)
    db.session.flush()
    if log:
        audit.record("family_created", "family", family.id, {"members": len(data.members)}, actor=actor)
    return family


def update_family(family, data: FamilyData, actor=None):
    """Change a family's details and members (flushed); returns capacity warnings (see `refit`)."""
    check(data, exclude_id=family.id)
    _apply(family, data)
    db.session.flush()
    audit.record("family_updated", "family", family.id, {"members": len(data.members)}, actor=actor)
    return refit(family, actor)


def refit(family, actor=None) -> list[str]:
    """Re-check the family's home after a change of size; returns warnings for the caseworker.

    An active placement takes the family's new size, and its home's counter moves with it (the
    counters always equal the sum of the placements). If the home is then over its beds or family
    count, the edit stands (it is the truth about the family) and the warning names the placement and
    asks to move the family or end the placement; no further family can be confirmed there meanwhile.
    A live proposal (approved, sent or accepted) is checked the same way against the room held there.
    """
    persons = max(1, len(family.members))
    warnings: list[str] = []
    placement = db.session.scalars(
        sa.select(Placement).where(Placement.family_id == family.id, Placement.end_date.is_(None))).first()
    if placement is not None:
        delta = capacity.resize_placement(placement, persons)
        home = ("h", placement.host_id) if placement.host_id is not None else ("u", placement.unit_id)
        place = placement.host or placement.unit
        if delta:
            audit.record("placement_resized", "placement", placement.id, {"delta": delta}, actor=actor)
        if capacity.over_capacity(home):
            audit.record("placement_over_capacity", "placement", placement.id, {"persons": persons}, actor=actor)
            warnings.append(str(_l(
                "The family now has %(n)d persons and no longer fits its placement with %(place)s (since "
                "%(start)s): the home has %(beds)d beds and now holds %(used)d persons. Move the family or end "
                "the placement. Until then no further family can be confirmed there.",
                n=persons, place=_place_name(place), start=format_date(placement.start_date),
                beds=place.beds, used=place.beds_used)))
        return warnings
    live = db.session.scalars(sa.select(Proposal).where(Proposal.family_id == family.id,
                                                        Proposal.state.in_(LIVE_STATES))).first()
    if live is not None:
        place = live.host or live.unit
        key = {"host_id": live.host_id} if live.host_id is not None else {"unit_id": live.unit_id}
        held = capacity.holding_sizes(exclude=live.id, **key)
        too_many = live.host is not None and len(held) + 1 > live.host.max_families
        if sum(held) + persons > place.beds or too_many:
            audit.record("proposal_over_capacity", "proposal", live.id, {"persons": persons}, actor=actor)
            warnings.append(str(_l(
                "The family now has %(n)d persons and no longer fits the home it is proposed to (%(place)s, "
                "%(beds)d beds, %(held)d persons held there by others). Ask the coordinator to move the "
                "family or withdraw the proposal; it cannot be confirmed as it is.",
                n=persons, place=_place_name(place), beds=place.beds, held=sum(held))))
    return warnings


def _place_name(place) -> str:
    return getattr(place, "contact_name", None) or getattr(place, "name", "") or ""


def set_status(family, status: str, actor=None) -> None:
    """Move the family to another status (waiting, proposed, placed, moved on)."""
    if status not in STATUSES:
        raise FamilyError(_l("Unknown status."), "status")
    if status != family.status:
        old, family.status = family.status, status
        db.session.flush()
        audit.record("family_status", "family", family.id, {"from": old, "to": status}, actor=actor)


def set_health_note(family, text: str | None, actor=None) -> None:
    """Keep, change or remove the family's health note (its own table; caseworkers only)."""
    text = (text or "").strip()
    note = family.health_note
    if not text:
        if note is not None:
            db.session.delete(note)
            family.health_note = None
            audit.record("health_note_removed", "family", family.id, actor=actor)
        return
    if note is None:
        family.health_note = HealthNote(text=text, updated_by=getattr(actor, "id", None))
        audit.record("health_note_added", "family", family.id, actor=actor)
    elif note.text != text:
        note.text = text
        note.updated_by = getattr(actor, "id", None)
        audit.record("health_note_changed", "family", family.id, actor=actor)
    db.session.flush()


def get_family(family_id: uuid.UUID):
    """The family with this id, or None."""
    return db.session.get(Family, family_id)


def record_view(family, actor=None, page: str = "detail") -> None:
    """Write the read-access log entry for a staff view of a family record (docs/security.md S19)."""
    audit.record("view_family", "family", family.id, {"page": page}, actor=actor)


@dataclass
class ListFilters:
    """The family list's search and filters (all optional)."""

    q: str = ""
    status: str = ""
    route: str = ""
    children: str = ""  # "yes", "no" or ""
    needed_before: date | None = None


def list_query(f: ListFilters):
    """The SELECT for the family list with search and filters, in a stable order."""
    query = sa.select(Family)
    if f.status in STATUSES:
        query = query.where(Family.status == f.status)
    if f.route in ROUTE_LABELS:
        query = query.where(Family.route == f.route)
    if f.needed_before is not None:
        query = query.where(Family.needed_from <= f.needed_before)
    if f.children in ("yes", "no"):
        has_child = sa.exists().where(FamilyMember.family_id == Family.id, FamilyMember.kind == "child")
        query = query.where(has_child if f.children == "yes" else ~has_child)
    q = " ".join(f.q.split())[:120]
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions = [Family.contact_name.ilike(like, escape="\\")]
        if any(ch.isdigit() for ch in q) and normalise_dossier(q) and dossier_format_ok(normalise_dossier(q)):
            conditions.append(Family.dossier_number == normalise_dossier(q))
        query = query.where(sa.or_(*conditions))
    return query.order_by(Family.needed_from, Family.id)


def list_page(f: ListFilters, page: int = 1, per_page: int = PER_PAGE):
    """One page of the family list (a Flask-SQLAlchemy Pagination)."""
    return db.paginate(list_query(f), page=max(1, page), per_page=per_page, error_out=False, max_per_page=100)


def school_choices() -> list[tuple[str, str]]:
    """Active schools as (id, 'name (code)') for the child rows of the form."""
    rows = db.session.execute(sa.select(School.id, School.name, School.code).where(School.active)
                              .order_by(School.name))
    return [(str(i), f"{name} ({code})") for i, name, code in rows]
