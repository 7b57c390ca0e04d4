"""The demo: a generated, fictional municipality ("Sjöviks kommun") and one fresh login per role.

``build()`` creates the schema with the packaged Alembic migrations, loads the generated data once
(deterministic by seed; dates are relative to today), and gives the four demo accounts new
passwords every time it runs. Everything is added in one transaction and committed once.
"""

from __future__ import annotations

import math
import random
import secrets
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import click
import flask_migrate
import sqlalchemy as sa

from ebo import clock
from ebo import demo_data as D
from ebo.extensions import db
from ebo.models import (
    AddressPoint,
    EndReason,
    Family,
    FamilyMember,
    FamilyStatus,
    FollowUpVisit,
    ForbiddenPair,
    ForbiddenReason,
    HealthNote,
    HomeVisit,
    HostHousehold,
    HostState,
    HousingUnit,
    MatchingRun,
    MunicipalitySettings,
    Placement,
    Proposal,
    ProposalState,
    Role,
    RunKind,
    RunState,
    School,
    User,
    VettingStatus,
    normalise_street,
    utcnow,
)
from ebo.models.matching import OPEN_STATES
from ebo.services import accounts, audit, capacity, drills
from ebo.services import unplaced as unplaced_reasons
from ebo.services.match_instance import build_instance, family_record, host_record, school_record, unit_record
from matching import rules
from matching import schema as ms
from matching.geo import haversine_km

#: The demo logins, in the order they are returned: (role, email, display name).
DEMO_ACCOUNTS: list[tuple[str, str, str]] = [
    (Role.ADMIN, "admin@demo.sjovik.se", "Lena Holm"),
    (Role.COORDINATOR, "koordinator@demo.sjovik.se", "Johan Berglund"),
    (Role.CASEWORKER, "handlaggare@demo.sjovik.se", "Sara Nyström"),
    (Role.HOST, "vard@demo.sjovik.se", "Karin Sjöberg"),
]

#: Matching parameters as in docs/matching-format.md.
PARAMS = {
    "max_school_km": 5.0,
    "min_stay_days": 90,
    "families_per_host": 1,
    "weights": {"school_km": 1.0, "unit_per_person": 50.0, "unplaced_per_person": 1000.0,
                "no_common_language": 2.0},
}

N_HOSTS = 300
N_FAMILIES = 120


def build(reset: bool = False, seed: int = 2026) -> list[tuple[str, str, str]]:
    """Create the schema, load the demo municipality once, and return fresh (role, email, password) logins."""
    if reset:
        _delete_sqlite_database()
    flask_migrate.upgrade()
    users, logins = _ensure_logins()
    if not _has_data():
        counts = _Generator(seed, users).load()
        audit.record("demo_loaded", "municipality", None, counts)
    audit.record("demo_logins_reset", "user", None, {"accounts": len(logins)})
    db.session.commit()
    # The Plus 5 % dashboard shows one finished drill on first start (a no-op once one exists).
    drills.ensure_demo_drill(users["coordinator"])
    return logins


def _delete_sqlite_database() -> None:
    """Delete the SQLite database file and its -wal/-shm/-journal companions (SQLite only)."""
    url = db.engine.url
    if not url.drivername.startswith("sqlite"):
        raise click.ClickException("--reset only deletes SQLite databases; drop the database yourself.")
    db.session.remove()
    db.engine.dispose()
    if not url.database or url.database == ":memory:":
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(url.database + suffix).unlink(missing_ok=True)


def _has_data() -> bool:
    """Return whether the database already holds hosts or families (demo or real: never mix)."""
    for model in (HostHousehold, Family):
        if db.session.scalar(sa.select(model.id).limit(1)) is not None:
            return True
    return False


def new_password(email: str, name: str) -> str:
    """Return a random password that passes the password policy for this account."""
    context = accounts.context_words(email, name)
    while True:
        password = secrets.token_urlsafe(9)
        if not (password[0].isalnum() and password[-1].isalnum()):
            continue  # easier to select and copy from a terminal
        if accounts.password_problem(password, context) is None:
            return password


def _ensure_logins() -> tuple[dict[str, User], list[tuple[str, str, str]]]:
    """Create or reset the four demo accounts with new passwords and revoke their sessions."""
    users: dict[str, User] = {}
    logins = []
    for role, email, name in DEMO_ACCOUNTS:
        password = new_password(email, name)
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = accounts.create_user(email, password, role, name)
        else:
            user.password_hash = accounts.hash_password(password)
            user.role = role
            user.active = True
            user.touch_password_changed()  # also rotates the session token
        user.rotate_session_token()
        users[role] = user
        logins.append((role, email, password))
    db.session.flush()
    return users, logins


def _offset(point: tuple[float, float], north_km: float, east_km: float) -> tuple[float, float]:
    """Return ``point`` moved by the given kilometres north and east."""
    lat, lon = point
    return (lat + north_km / 110.574, lon + east_km / (111.320 * math.cos(math.radians(lat))))


def _ascii(text: str) -> str:
    """Return a lowercase ASCII form of a name for email addresses."""
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", " ": ""})
    return text.lower().translate(table)


class _Generator:
    """Builds the fictional municipality with one seeded random generator."""

    def __init__(self, seed: int, users: dict[str, User]):
        self.rng = random.Random(seed)
        self.users = users
        self.today = clock.today()
        self.now = utcnow()
        self.streets: dict[int, list[dict]] = {}
        self.used_addresses: set[tuple[str, int]] = set()
        self.hosts: list[HostHousehold] = []
        self.families: list[Family] = []
        self.schools: list[School] = []
        self.units: list[HousingUnit] = []
        self.open_hosts: set[uuid.UUID] = set()
        self.forbidden: set[tuple[uuid.UUID, uuid.UUID]] = set()
        self.taken_families: set[uuid.UUID] = set()
        self.placements: list[Placement] = []
        self.proposals: list[Proposal] = []
        self.unplaced_of: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.phone_index = 0

    # -- helpers ---------------------------------------------------------------------------------

    def uid(self) -> uuid.UUID:
        """Return a UUID drawn from the seeded generator (same seed, same ids)."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def at(self, days_ago: float, hour: int = 10) -> datetime:
        """Return an aware UTC datetime ``days_ago`` days before today at about ``hour``."""
        day = self.today - timedelta(days=int(days_ago))
        return datetime.combine(day, time(hour, self.rng.randint(0, 59)), tzinfo=UTC)

    def phone(self) -> str:
        """Return the next fictional phone number."""
        self.phone_index += 1
        return D.PHONE_FICTION[self.phone_index % len(D.PHONE_FICTION)]

    def weighted(self, table: dict):
        """Return a key of ``table`` drawn with the values as weights."""
        return self.rng.choices(list(table), weights=list(table.values()))[0]

    # -- places ----------------------------------------------------------------------------------

    def make_streets(self) -> list[AddressPoint]:
        """Generate streets per neighbourhood and their address points (street, house number, postal code)."""
        rng = self.rng
        names = [p + s for p in D.STREET_PREFIXES for s in D.STREET_SUFFIXES]
        rng.shuffle(names)
        points: list[AddressPoint] = []
        by_postal: dict[str, list[tuple[float, float]]] = {}
        for nb, (_name, centre, postals) in enumerate(D.NEIGHBOURHOODS):
            self.streets[nb] = []
            for _ in range(12 if nb == 0 else 9):
                street = names.pop()
                postal = rng.choice(postals)
                start = _offset(centre, rng.uniform(-0.9, 0.9), rng.uniform(-0.9, 0.9))
                angle = rng.uniform(0, math.pi)
                numbers = rng.randint(12, 40)
                coords = {}
                for n in range(1, numbers + 1):
                    along = (n // 2) * 0.03
                    side = 0.012 if n % 2 else -0.012
                    coords[n] = _offset(start, along * math.sin(angle) + side * math.cos(angle),
                                        along * math.cos(angle) - side * math.sin(angle))
                    points.append(AddressPoint(id=self.uid(), postal_code=postal,
                                               street=normalise_street(f"{street} {n}"), town=D.TOWN,
                                               lat=round(coords[n][0], 6), lon=round(coords[n][1], 6)))
                middle = coords[numbers // 2 or 1]
                points.append(AddressPoint(id=self.uid(), postal_code=postal, street=normalise_street(street),
                                           town=D.TOWN, lat=round(middle[0], 6), lon=round(middle[1], 6)))
                by_postal.setdefault(postal, []).append(middle)
                self.streets[nb].append({"name": street, "postal": postal, "coords": coords})
        for postal, mids in sorted(by_postal.items()):
            lat = sum(p[0] for p in mids) / len(mids)
            lon = sum(p[1] for p in mids) / len(mids)
            points.append(AddressPoint(id=self.uid(), postal_code=postal, street="", town=D.TOWN,
                                       lat=round(lat, 6), lon=round(lon, 6)))
        return points

    def address(self, nb: int) -> tuple[str, str, tuple[float, float]]:
        """Return an unused (street with number, postal code, point) in neighbourhood ``nb``."""
        while True:
            street = self.rng.choice(self.streets[nb])
            number = self.rng.choice(list(street["coords"]))
            if (street["name"], number) not in self.used_addresses:
                self.used_addresses.add((street["name"], number))
                return f"{street['name']} {number}", street["postal"], street["coords"][number]

    def make_schools_and_units(self) -> None:
        """Generate the twelve schools and the two municipal housing units."""
        codes: set[str] = set()
        for name, nb in D.SCHOOLS:
            code = str(self.rng.randint(10_000_000, 99_999_999))
            while code in codes:
                code = str(self.rng.randint(10_000_000, 99_999_999))
            codes.add(code)
            street, postal, point = self.address(nb)
            school = School(id=self.uid(), code=code, name=name, street=street, postal_code=postal,
                            town=D.TOWN, municipality_code=D.MUNICIPALITY_CODE, lat=round(point[0], 6),
                            lon=round(point[1], 6), active=True)
            school.nb = nb
            self.schools.append(school)
        for name, nb, beds, step_free in D.UNITS:
            street, postal, point = self.address(nb)
            unit = HousingUnit(id=self.uid(), name=name, street=street, postal_code=postal, town=D.TOWN,
                               lat=round(point[0], 6), lon=round(point[1], 6), beds=beds, beds_used=0,
                               step_free=step_free, active=True,
                               notes="Kommunens asylboende; personal på plats vardagar.")
            self.units.append(unit)

    # -- hosts -----------------------------------------------------------------------------------

    def make_hosts(self, shared_hash: str) -> list:
        """Generate ~300 host households with accounts, plus the demo host's household."""
        rng = self.rng
        coordinator = self.users["coordinator"]
        rows: list = []
        for i in range(N_HOSTS):
            first, last = rng.choice(D.HOST_FIRST_NAMES), rng.choice(D.HOST_SURNAMES)
            name = f"{first} {last}"
            email = f"{_ascii(first)}.{_ascii(last)}{i + 1}@example.com"
            nb = rng.choices(range(len(D.NEIGHBOURHOODS)), weights=[30, 20, 20, 15, 15])[0]
            street, postal, point = self.address(nb)
            created_days = rng.randint(20, 900)
            vetting = self.weighted({VettingStatus.APPROVED: 60, VettingStatus.VISITED: 12,
                                     VettingStatus.REGISTERED: 20, VettingStatus.REJECTED: 8})
            state = self.weighted({HostState.ACTIVE: 80, HostState.PAUSED: 12, HostState.WITHDRAWN: 8})
            overdue = created_days > 400 and rng.random() < 0.18
            reconfirmed_days = (rng.randint(396, min(created_days, 640)) if overdue
                                else rng.randint(1, min(created_days, 330)))
            beds = self.weighted({1: 14, 2: 28, 3: 20, 4: 18, 5: 7, 6: 6, 7: 3, 8: 4})
            available_from = None
            if rng.random() < 0.35:
                available_from = self.today + timedelta(days=rng.randint(-30, 90))
            available_until = None
            if rng.random() < 0.3:
                available_until = (available_from or self.today) + timedelta(days=rng.randint(150, 720))
            extras = rng.sample(D.LANGUAGE_EXTRAS, rng.choice([0, 1, 1, 1, 2]))
            languages = ["sv"] + sorted(set(extras) - {"sv"})
            user = User(id=self.uid(), email=email, password_hash=shared_hash, role=Role.HOST, name=name,
                        active=True, created_at=self.at(created_days))
            host = HostHousehold(
                id=self.uid(), user_id=user.id, contact_name=name, email=email, phone=self.phone(),
                street=street, postal_code=postal, town=D.TOWN, lat=round(point[0], 6),
                lon=round(point[1], 6), geocode_status="ok",
                adults_living=self.weighted({1: 25, 2: 60, 3: 15}),
                children_living=self.weighted({0: 55, 1: 15, 2: 20, 3: 10}), beds=beds,
                rooms=max(1, math.ceil(beds / 2) - (1 if beds > 4 and rng.random() < 0.5 else 0)),
                beds_used=0, families_placed=0, max_families=2 if beds >= 5 and rng.random() < 0.4 else 1,
                accepts_children=rng.random() < 0.85, step_free=rng.random() < 0.25,
                has_pets=rng.random() < 0.3, smoking=rng.random() < 0.07, languages=languages,
                available_from=available_from, available_until=available_until,
                open_to_long_term_rental=rng.random() < 0.3,
                free_text=rng.choice(D.HOST_FREE_TEXT) if rng.random() < 0.4 else None,
                consent_at=self.at(created_days), consent_version="2026-1", vetting_status=vetting.value,
                state=state.value, last_reconfirmed_at=self.at(reconfirmed_days),
                reconfirm_reminder_sent_at=self.at(reconfirmed_days - 365) if overdue else None,
                created_at=self.at(created_days), updated_at=self.at(min(reconfirmed_days, created_days)),
            )
            if i < 5:  # a few addresses the offline table does not know, or not yet looked up
                host.lat = host.lon = None
                host.geocode_status = "not_found" if i < 3 else "pending"
                host.street = street.replace("vägen", "väg").replace("gatan", "gata") if i < 3 else street
                host.vetting_status = VettingStatus.REGISTERED.value
            rows += [user, host]
            self._vet(host, vetting, created_days, coordinator, rows)
            host.nb = nb
            self.hosts.append(host)
        rows += self._demo_host()
        return rows

    def _vet(self, host: HostHousehold, vetting: VettingStatus, created_days: int, coordinator: User,
             rows: list) -> None:
        """Add the home visit and decision that the vetting status implies."""
        if host.vetting_status == VettingStatus.REGISTERED:
            return
        rng = self.rng
        visit_days = max(1, created_days - rng.randint(7, 40))
        outcome = {VettingStatus.VISITED: "revisit", VettingStatus.APPROVED: "approved",
                   VettingStatus.REJECTED: "rejected"}[vetting]
        notes = D.VISIT_NOTES[3:] if outcome == "revisit" else D.VISIT_NOTES[:3]
        visited_on = self.today - timedelta(days=visit_days)
        rows.append(HomeVisit(id=self.uid(), host_id=host.id, visited_on=visited_on,
                              visited_by_name=rng.choice(D.STAFF_NAMES), outcome=outcome,
                              notes=rng.choice(notes), recorded_by=coordinator.id,
                              created_at=self.at(visit_days, 15)))
        if vetting in (VettingStatus.APPROVED, VettingStatus.REJECTED):
            host.vetting_decided_by = coordinator.id
            host.vetting_decided_at = self.at(max(0, visit_days - 2), 16)
            if vetting == VettingStatus.REJECTED:
                host.vetting_reason = rng.choice(D.REJECT_REASONS)

    def _demo_host(self) -> list:
        """Return the demo host's approved household (its account exists already)."""
        user = self.users["host"]
        street, postal, point = self.address(0)
        host = HostHousehold(
            id=self.uid(), user_id=user.id, contact_name=user.name, email=user.email, phone=self.phone(),
            street=street, postal_code=postal, town=D.TOWN, lat=round(point[0], 6), lon=round(point[1], 6),
            geocode_status="ok", adults_living=2, children_living=1, beds=4, rooms=2, beds_used=0,
            families_placed=0, max_families=1, accepts_children=True, step_free=False, has_pets=False,
            smoking=False, languages=["sv", "en", "de"], open_to_long_term_rental=True,
            free_text="Övervåningen med två sovrum och eget badrum. Nära Centralskolan.",
            consent_at=self.at(300), consent_version="2026-1", vetting_status=VettingStatus.APPROVED.value,
            vetting_decided_by=self.users["coordinator"].id, vetting_decided_at=self.at(280),
            state=HostState.ACTIVE.value, last_reconfirmed_at=self.at(40), created_at=self.at(300),
            updated_at=self.at(40),
        )
        host.nb = 0
        self.demo_host = host
        visit = HomeVisit(id=self.uid(), host_id=host.id, visited_on=self.today - timedelta(days=282),
                          visited_by_name="Johan Berglund", outcome="approved", notes=D.VISIT_NOTES[0],
                          recorded_by=self.users["coordinator"].id, created_at=self.at(282))
        return [host, visit]

    # -- families --------------------------------------------------------------------------------

    def make_families(self) -> list:
        """Generate ~120 families with members, schools, needs and some health notes."""
        rng = self.rng
        caseworker = self.users["caseworker"]
        year = self.today.year
        rows: list = []
        dossiers: set[str] = set()
        origins = D.FAMILY_ORIGINS
        for _ in range(N_FAMILIES):
            firsts, lasts, lang_sets, _w = rng.choices(origins, weights=[o[3] for o in origins])[0]
            surname = rng.choice(lasts)
            contact_first = rng.choice(firsts)
            route = self.weighted({"anvisning": 45, "asylum_ebo": 25, "resident": 20, "other": 10})
            nb = rng.choices(range(len(D.NEIGHBOURHOODS)), weights=[30, 20, 20, 15, 15])[0]
            dossier = None
            if route != "resident" or rng.random() < 0.3:
                dossier = str(rng.randint(10_000_000, 99_999_999))
                while dossier in dossiers:
                    dossier = str(rng.randint(10_000_000, 99_999_999))
                dossiers.add(dossier)
            needed_from = self.today + timedelta(days=rng.randint(-30, 45))
            family = Family(
                id=self.uid(), dossier_number=dossier, contact_name=f"{contact_first} {surname}",
                contact_phone=self.phone() if rng.random() < 0.85 else None,
                contact_email=(f"{_ascii(contact_first)}.{_ascii(surname)}@example.com"
                               if rng.random() < 0.5 else None),
                languages=list(rng.choice(lang_sets)), route=route, needed_from=needed_from,
                needs_step_free=rng.random() < 0.08, pet_allergy=rng.random() < 0.12,
                needs_non_smoking=rng.random() < 0.3, status=FamilyStatus.WAITING.value,
                notes=rng.choice(D.FAMILY_NOTES) if rng.random() < 0.25 else None, created_by=caseworker.id,
                created_at=self.at(max(1, (self.today - needed_from).days + rng.randint(10, 50))),
            )
            family.nb = nb
            adults = self.weighted({1: 30, 2: 60, 3: 10})
            children = self.weighted({0: 18, 1: 20, 2: 28, 3: 18, 4: 10, 5: 6})
            nb_schools = [s for s in self.schools if s.nb == nb]
            family_school = rng.choice(nb_schools)
            members = []
            for a in range(adults):
                name = contact_first if a == 0 else rng.choice(firsts)
                members.append(FamilyMember(id=self.uid(), family_id=family.id, kind="adult", first_name=name,
                                            birth_year=year - rng.randint(22, 58), position=len(members)))
            family.child_schools = []
            for birth_year in sorted(year - rng.randint(0, 17) for _ in range(children)):
                age = year - birth_year
                school = None
                if 6 <= age <= 15 and (route == "resident" or rng.random() < 0.6):
                    school = family_school if rng.random() < 0.8 else rng.choice(nb_schools)
                family.child_schools.append(school.id if school else None)
                members.append(FamilyMember(id=self.uid(), family_id=family.id, kind="child",
                                            first_name=rng.choice(firsts), birth_year=birth_year,
                                            school_id=school.id if school else None, position=len(members)))
            family.size_ = len(members)
            family.record = family_record(family, members, needed_from)
            rows.append(family)
            rows.extend(members)
            if rng.random() < 0.15 or family.needs_step_free:
                text = (D.HEALTH_NOTES[1] if family.needs_step_free else
                        D.HEALTH_NOTES[2] if family.pet_allergy else rng.choice(D.HEALTH_NOTES))
                rows.append(HealthNote(id=self.uid(), family_id=family.id, text=text,
                                       updated_by=caseworker.id))
            self.families.append(family)
        return rows

    # -- matching --------------------------------------------------------------------------------

    def instance(self) -> ms.Instance:
        """Return the matching instance the demo's proposals are checked and priced with (schools and params)."""
        if getattr(self, "inst", None) is None:
            w = PARAMS["weights"]
            params = ms.Params(max_school_km=PARAMS["max_school_km"], min_stay_days=PARAMS["min_stay_days"],
                               families_per_host=PARAMS["families_per_host"], weights=ms.Weights(**w))
            self.inst = ms.Instance(date=self.today, params=params, schools=tuple(map(school_record, self.schools)),
                                    hosts=(), units=(), families=(), fixed=(), forbidden=())
        return self.inst

    def child_km(self, family: Family, place: ms.Host | ms.Unit) -> list[float | None]:
        """Return each child's distance (km) from ``place`` to its school (None without a school)."""
        kms = rules.child_km(place, family.record, rules.schools_by_id(self.instance()))
        return [None if d is None else round(d, 2) for d in kms]

    def fits_host(self, host: HostHousehold, family: Family, arrival: date, mode: str) -> bool:
        """Return whether the matcher's hard rules allow ``family`` with ``host`` (mode: now, then, demo)."""
        if host.lat is None or host.id in self.open_hosts or (family.id, host.id) in self.forbidden:
            return False
        if (host is self.demo_host) != (mode == "demo"):
            return False
        if mode == "then":  # an earlier run: approved and active then, reconfirmation not checked
            if host.vetting_status != VettingStatus.APPROVED or host.state != HostState.ACTIVE:
                return False
        elif not host.takes_part_in_matching(self.today):
            return False
        if host.created_at.date() > arrival - timedelta(days=45):
            return False
        free = host_record(host, beds=host.beds - host.beds_used, max_families=host.max_families - host.families_placed)
        return not rules.violated_rules(self.instance(), free, replace(family.record, arrival=arrival))

    def fits_unit(self, unit: HousingUnit, family: Family, step_free: bool = True) -> bool:
        """Return whether ``family`` fits the unit's free beds (and, if asked, its step-free need)."""
        free = replace(unit_record(unit), beds=unit.beds - unit.beds_used)
        if step_free:
            return rules.unit_ok(free, family.record)
        return rules.unit_beds_ok(free, family.record, ())

    def pick(self, arrival_days: int, want_host: bool, mode: str, min_size: int = 1):
        """Return a free (family, host-or-unit) pair, the host chosen nearest the children's schools."""
        families = [f for f in self.families if f.id not in self.taken_families and f.size_ >= min_size]
        self.rng.shuffle(families)
        for family in families:
            arrival = self.today - timedelta(days=arrival_days)
            if want_host:
                hosts = [self.demo_host] if mode == "demo" else self.hosts
                fitting = [h for h in hosts if self.fits_host(h, family, arrival, mode)]
                if not fitting:
                    continue
                home = D.NEIGHBOURHOODS[family.nb][1]
                fitting.sort(key=lambda h: rules.school_km_total(host_record(h), family.record,
                                                                 rules.schools_by_id(self.instance()))
                             + haversine_km(h.lat, h.lon, *home) * 0.1)
                self.taken_families.add(family.id)
                return family, self.rng.choice(fitting[:3])
            units = [u for u in self.units if self.fits_unit(u, family)]
            if units:
                self.taken_families.add(family.id)
                return family, units[0] if family.needs_step_free else self.rng.choice(units)
        raise RuntimeError("demo generator: no family fits")  # pragma: no cover - fixed data

    def propose(self, run: MatchingRun, state: ProposalState, run_days: int, *, mode: str = "now",
                want_host: bool = True, min_size: int = 1) -> Proposal:
        """Create a proposal from ``run`` in ``state``, with the times and people that state implies."""
        rng = self.rng
        family, target = self.pick(run_days, want_host, mode, min_size)
        is_host = isinstance(target, HostHousehold)
        place = host_record(target) if is_host else unit_record(target)
        child_km = self.child_km(family, place)
        shared = rules.shares_language(place, family.record) if is_host else None
        inst, fam = self.instance(), family.record
        cost = rules.host_cost(inst, place, fam) if is_host else rules.unit_cost(inst, place, fam)
        coordinator = self.users["coordinator"].id
        p = Proposal(id=self.uid(), run_id=run.id, family_id=family.id,
                     host_id=target.id if is_host else None, unit_id=None if is_host else target.id,
                     child_km=child_km, shared_language=shared, cost=round(cost, 2), state=state,
                     created_at=run.finished_at)
        decided = max(0, run_days - 1)
        if state != ProposalState.PROPOSED:
            p.decided_by, p.decided_at = coordinator, self.at(decided, 11)
        if state == ProposalState.REJECTED:
            p.coordinator_note = rng.choice(["Familjen önskar bo nära släktingar i Centrum.",
                                             "Värden har meddelat att rummet renoveras."])
        if is_host and state in (ProposalState.SENT, ProposalState.ACCEPTED, ProposalState.DECLINED,
                                 ProposalState.CONFIRMED, ProposalState.WITHDRAWN,
                                 ProposalState.EXPIRED):  # it was sent once
            # Still waiting: sent yesterday, so its answer deadline has not passed.
            p.sent_at = self.at(1 if state == ProposalState.SENT else max(0, decided - 1), 13)
        if state == ProposalState.EXPIRED:  # the host did not answer in time
            p.decided_by, p.decided_at = None, self.at(0, 6)
        if state in (ProposalState.ACCEPTED, ProposalState.DECLINED, ProposalState.CONFIRMED) and is_host:
            p.answered_at = self.at(max(0, decided - 2), 19)
        if state == ProposalState.DECLINED:
            p.decline_reason = rng.choice(D.DECLINE_REASONS)
        if state == ProposalState.CONFIRMED:
            p.confirmed_at = self.at(max(0, decided - 3), 9)
        if state in OPEN_STATES:
            family.status = FamilyStatus.PROPOSED
            if is_host:
                self.open_hosts.add(target.id)
        family.needed_from = min(family.needed_from, self.today - timedelta(days=max(0, run_days - 5)))
        p.family_, p.target = family, target
        self.proposals.append(p)
        return p

    def forbid(self, proposal: Proposal, reason: ForbiddenReason) -> ForbiddenPair:
        """Return the forbidden pair a declined or vetoed proposal leaves behind."""
        self.forbidden.add((proposal.family_id, proposal.host_id))
        return ForbiddenPair(id=self.uid(), family_id=proposal.family_id, host_id=proposal.host_id,
                             reason=reason.value, created_by=self.users["coordinator"].id,
                             created_at=proposal.answered_at or proposal.decided_at)

    def place(self, family: Family, target, start: date, proposal: Proposal | None = None) -> Placement:
        """Create an active placement and keep the host's or unit's counters in step."""
        is_host = isinstance(target, HostHousehold)
        placement = Placement(id=self.uid(), family_id=family.id, host_id=target.id if is_host else None,
                              unit_id=None if is_host else target.id,
                              proposal_id=proposal.id if proposal else None, persons=family.size_,
                              start_date=start, confirmed_by=self.users["coordinator"].id,
                              created_at=self.at((self.today - start).days, 9))
        if is_host:
            capacity.reserve_host(target.id, family.size_)
        else:
            capacity.reserve_unit(target.id, family.size_)
        family.status = FamilyStatus.PLACED
        family.needed_from = min(family.needed_from, start - timedelta(days=self.rng.randint(0, 10)))
        family.created_at = min(family.created_at, self.at((self.today - family.needed_from).days + 20))
        placement.target = target
        self.placements.append(placement)
        return placement

    def end(self, placement: Placement, end: date, reason: EndReason, note: str) -> None:
        """End a placement and release its beds."""
        placement.end_date, placement.end_reason, placement.end_note = end, reason.value, note
        placement.ended_by = self.users["caseworker"].id
        if isinstance(placement.target, HostHousehold):
            capacity.release_host(placement.target.id, placement.persons)
        else:
            capacity.release_unit(placement.target.id, placement.persons)

    def run(self, days_ago: int, status: str, gap: float) -> MatchingRun:
        """Return a finished matching run ``days_ago`` days back."""
        return MatchingRun(id=self.uid(), kind=RunKind.MATCH, started_by=self.users["coordinator"].id,
                           params=PARAMS, state=RunState.DONE, active_lock=None, progress=1.0,
                           progress_message="Klar",
                           status=status, gap=gap, wall_s=round(self.rng.uniform(1.5, 9.0), 2),
                           created_at=self.at(days_ago, 8), started_at=self.at(days_ago, 8),
                           finished_at=self.at(days_ago, 8))

    def finish_run(self, run: MatchingRun, unplaced: int) -> None:
        """Fill the run's solver figures and counts from its proposals."""
        mine = [p for p in self.proposals if p.run_id == run.id]
        homes = [p for p in mine if p.host_id]
        units = [p for p in mine if p.unit_id]
        in_run = {p.family_id for p in mine}
        rest = [f for f in self.families if f.id not in in_run and f.status == FamilyStatus.WAITING]
        rest = rest[:unplaced]
        self.unplaced_of[run.id] = [f.id for f in rest]
        unplaced_cost = PARAMS["weights"]["unplaced_per_person"] * sum(f.size_ for f in rest)
        objective = sum(p.cost for p in mine) + unplaced_cost
        run.objective = run.best_objective = round(objective, 2)
        run.bound = round(objective * (1 - run.gap), 2)
        kms = [km for p in mine for km in (p.child_km or []) if km is not None]
        # The same figures as a solved run stores (services/runs.py), so the run pages show every one.
        run.counts = {
            "families": len(mine) + len(rest), "fixed": 0,
            "persons_with_hosts": sum(p.family_.size_ for p in homes),
            "persons_in_units": sum(p.family_.size_ for p in units),
            "persons_unplaced": sum(f.size_ for f in rest), "families_unplaced": len(rest),
            "children_within_limit": sum(km <= PARAMS["max_school_km"] for km in kms),
            "children_beyond_limit": sum(km > PARAMS["max_school_km"] for km in kms),
            "school_km": round(sum(kms), 3),
            "hosts": sum(h.takes_part_in_matching(self.today) for h in self.hosts), "units": len(self.units),
        }

    def store_unplaced(self, run: MatchingRun) -> None:
        """Store the run's unplaced families as the review lists them, each with "no reason given"."""
        sol = ms.Solution(status=run.status, objective=run.objective, bound=run.bound, gap=run.gap, wall_s=run.wall_s,
                          unplaced=tuple(ms.Unplaced(family_id=str(f)) for f in self.unplaced_of.get(run.id, ())))
        unplaced_reasons.store_reasons(run, None, sol)

    def store_run_input(self, run: MatchingRun) -> None:
        """Store the newest run's input and result files as a solved run stores them, so its Move page opens.

        Its unplaced families get no reasons (`store_unplaced`): the demo picked them by hand, not by solving,
        so matching.explain's ("placing the family there would not lower the total cost") would be untrue.
        """
        # When the run was solved, the families it merely proposed for were still waiting: build the instance
        # as of then (their status is set back to waiting for the read, inside this uncommitted transaction).
        proposed = [p.family_ for p in self.proposals if p.run_id == run.id and p.state == ProposalState.PROPOSED]
        for family in proposed:
            family.status = FamilyStatus.WAITING
        db.session.flush()
        inst, _preview = build_instance(self.today, max_school_km=PARAMS["max_school_km"],
                                        families_per_host=PARAMS["families_per_host"],
                                        min_stay_days=PARAMS["min_stay_days"], weights=ms.Weights(**PARAMS["weights"]))
        for family in proposed:
            family.status = FamilyStatus.PROPOSED
        db.session.flush()
        in_inst = {f.id for f in inst.families}
        placements = [ms.Placement(family_id=x.family_id, host_id=x.host_id, unit_id=x.unit_id) for x in inst.fixed]
        placed = {x.family_id for x in inst.fixed}
        for p in self.proposals:
            fid = str(p.family_id)
            if p.run_id == run.id and p.state == ProposalState.PROPOSED and fid in in_inst and fid not in placed:
                placements.append(ms.Placement(family_id=fid, host_id=str(p.host_id) if p.host_id else None,
                                               unit_id=str(p.unit_id) if p.unit_id else None,
                                               child_km=tuple(p.child_km or ())))
                placed.add(fid)
        left = [ms.Unplaced(family_id=str(f), reasons=()) for f in self.unplaced_of.get(run.id, ())
                if str(f) in in_inst and str(f) not in placed]
        sol = ms.Solution(status=run.status, objective=run.objective, bound=run.bound, gap=run.gap,
                          wall_s=run.wall_s, placements=tuple(placements), unplaced=tuple(left))
        run.instance_json, run.solution_json = ms.dumps_instance(inst), ms.dumps_solution(sol)

    def make_matching(self) -> tuple[list, list, list]:
        """Two past runs, proposals in every state, placements (active and ended), visits, forbidden pairs."""
        rng = self.rng
        forbidden: list[ForbiddenPair] = []
        # An older run: its confirmed proposals became the placements of the autumn.
        old = self.run(150, "OPTIMAL", 0.0)
        for _ in range(16):
            p = self.propose(old, ProposalState.CONFIRMED, 150, mode="then")
            self.place(p.family_, p.target, self.today - timedelta(days=rng.randint(135, 146)), p)
        for _ in range(8):
            p = self.propose(old, ProposalState.CONFIRMED, 150, want_host=False, min_size=3)
            self.place(p.family_, p.target, self.today - timedelta(days=rng.randint(140, 146)), p)
        ended = []
        for _ in range(3):
            p = self.propose(old, ProposalState.CONFIRMED, 150, mode="then")
            ended.append((p.family_, self.place(p.family_, p.target, self.today - timedelta(days=144), p)))
        for _ in range(2):
            p = self.propose(old, ProposalState.DECLINED, 150, mode="then")
            forbidden.append(self.forbid(p, ForbiddenReason.DECLINED))
            self.taken_families.discard(p.family_id)  # declined: the family is free for the next run
        self.finish_run(old, unplaced=4)
        # Two ended with a permit (moved on), one ended by the host and the family is now in a unit.
        (f1, p1), (f2, p2), (f3, p3) = ended
        self.end(p1, self.today - timedelta(days=40), EndReason.MOVED_ON, "Familjen har fått egen lägenhet.")
        self.end(p2, self.today - timedelta(days=25), EndReason.PERMIT_STAYED,
                 "Uppehållstillstånd beviljat; familjen hyr rummet av värden i andra hand.")
        for f, days in ((f1, 70), (f2, 50)):
            f.status = FamilyStatus.MOVED_ON
            f.permit_decision, f.permit_decided_on = "granted", self.today - timedelta(days=days)
        self.end(p3, self.today - timedelta(days=60), EndReason.ENDED_BY_HOST, "Värden flyttar utomlands.")
        # The first stay's host was asked whether they can take another family and has not answered yet.
        if isinstance(p1.target, HostHousehold):
            p1.target.another_family_asked_at = datetime.combine(self.today - timedelta(days=40), time(12), tzinfo=UTC)
        unit = next(u for u in self.units if self.fits_unit(u, f3, step_free=False))
        self.place(f3, unit, self.today - timedelta(days=60))

        # The latest run, six days ago: proposals in every state.
        new = self.run(6, "FEASIBLE", 0.004)
        # The demo host's proposal, waiting for an answer.
        self.propose(new, ProposalState.SENT, 6, mode="demo")
        plan = [(ProposalState.PROPOSED, 6, True), (ProposalState.PROPOSED, 2, False),
                (ProposalState.APPROVED, 4, True), (ProposalState.APPROVED, 1, False),
                (ProposalState.REJECTED, 3, True), (ProposalState.SENT, 5, True),
                (ProposalState.ACCEPTED, 4, True), (ProposalState.DECLINED, 3, True),
                (ProposalState.CONFIRMED, 4, True), (ProposalState.CONFIRMED, 2, False),
                (ProposalState.WITHDRAWN, 2, True), (ProposalState.EXPIRED, 1, True)]
        for state, count, want_host in plan:
            for _ in range(count):
                p = self.propose(new, state, 6, want_host=want_host)
                if state == ProposalState.CONFIRMED:
                    self.place(p.family_, p.target, self.today - timedelta(days=rng.randint(1, 3)), p)
                elif state == ProposalState.DECLINED:
                    forbidden.append(self.forbid(p, ForbiddenReason.DECLINED))
                elif state == ProposalState.REJECTED and not any(x.reason == ForbiddenReason.VETOED for x in forbidden):
                    forbidden.append(self.forbid(p, ForbiddenReason.VETOED))
        # Proposals of the older run that were never approved: the newer run superseded them.
        for _ in range(2):
            self.propose(old, ProposalState.SUPERSEDED, 150, mode="then")
        self.finish_run(new, unplaced=7)
        # A couple of permit decisions among the placed.
        placed = [f for f in self.families if f.status == FamilyStatus.PLACED]
        for f, decision in zip(placed[:3], ("granted", "granted", "refused"), strict=True):
            f.permit_decision, f.permit_decided_on = decision, self.today - timedelta(days=rng.randint(5, 60))
        return [old, new], list(self.proposals), self.placements_and_visits() + forbidden

    def placements_and_visits(self) -> list:
        """Return the placements with follow-up visits (past ones mostly done, some overdue)."""
        rng = self.rng
        rows: list = []
        overdue = 0
        for placement in self.placements:
            rows.append(placement)
            last = placement.end_date or self.today + timedelta(days=45)
            for offset in (14, 60, 120, 180, 240):
                planned = placement.start_date + timedelta(days=offset)
                if planned > last:
                    break
                visit = FollowUpVisit(id=self.uid(), placement_id=placement.id, planned_on=planned,
                                      created_at=self.at((self.today - placement.start_date).days, 10))
                late = (self.today - planned).days
                chance = 0.9 if late > 21 else 0.4
                done = late > 0 and (placement.end_date is not None or rng.random() < chance)
                if late > 0 and not done:
                    overdue += 1
                if late > 0 and not done and placement.end_date is None and overdue > 6:
                    done = True
                if done:
                    visit.done_on = min(self.today, planned + timedelta(days=rng.randint(0, 4)))
                    visit.by_user = self.users["coordinator"].id
                    visit.notes = rng.choice(D.FOLLOW_UP_NOTES)
                rows.append(visit)
        return rows

    # -- the whole -------------------------------------------------------------------------------

    def load(self) -> dict[str, int]:
        """Add the whole municipality to the session (flushed stage by stage) and return counts."""
        session = db.session
        settings = MunicipalitySettings.get()
        settings.name, settings.population, settings.households = D.MUNICIPALITY, D.POPULATION, D.HOUSEHOLDS
        settings.target_percent, settings.default_max_school_km = D.TARGET_PERCENT, PARAMS["max_school_km"]
        settings.updated_by = self.users["admin"].id
        # The ~300 generated hosts cannot log in: they share one argon2 hash of a random password that
        # nobody knows (hashing 300 passwords would make the demo slow for nothing).
        shared_hash = accounts.hash_password(secrets.token_urlsafe(32))
        points = self.make_streets()
        session.add_all(points)
        self.make_schools_and_units()
        session.add_all(self.schools + self.units)
        session.flush()
        session.add_all(self.make_hosts(shared_hash))
        session.flush()
        session.add_all(self.make_families())
        session.flush()
        runs, proposals, rest = self.make_matching()
        session.add_all(runs)
        session.flush()
        session.add_all(proposals)
        session.flush()
        session.add_all(rest)
        session.flush()
        self.store_run_input(runs[-1])
        for run in runs:
            self.store_unplaced(run)
        return {"address_points": len(points), "schools": len(self.schools), "units": len(self.units),
                "hosts": len(self.hosts) + 1, "families": len(self.families), "proposals": len(proposals),
                "placements": len(self.placements)}
