"""CSV imports: schools (Skolverket's register), families (a row per person) and address points.

Every import is all or nothing: the whole file is checked first, and rows are added only when no
line has an error; otherwise the errors are returned, each with its line number, column and reason.

Over 400 lines on purpose: three imports that share one all-or-nothing checker and error format; each
import's column rules sit next to it, under its own heading.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from pyproj import Transformer

from ebo import clock
from ebo.extensions import db
from ebo.models import AddressPoint, Family, School, normalise_street
from ebo.models.geo import in_sweden
from ebo.services import audit, csvio
from ebo.services import families as family_service
from ebo.services.csvio import RowError
from ebo.services.postal import normalise_postal_code
from ebo.services.schools import CODE_RE

# --- coordinates -------------------------------------------------------------------------------------

# SWEREF 99 TM (EPSG:3006, axes north, east) to WGS 84 (EPSG:4326, axes latitude, longitude) by PROJ.
# pyproj's wheel ships PROJ and its database; this projection needs no grid, so nothing is downloaded.


@cache
def _sweref_to_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:3006", "EPSG:4326")


def sweref99tm_to_wgs84(north: float, east: float) -> tuple[float, float]:
    """Convert SWEREF 99 TM (N, E metres) to WGS 84 (lat, lon degrees), offline."""
    lat, lon = _sweref_to_wgs84().transform(north, east)
    return lat, lon


COORDINATE_COLUMNS = {
    "lat": ("latitud", "lat", "latitude", "wgs84 lat", "wgs84 latitud"),
    "lon": ("longitud", "lon", "long", "lng", "longitude", "wgs84 lon", "wgs84 longitud"),
    "north": ("koordinat n", "koordinat sweref99 n", "sweref99 n", "sweref 99 tm n", "sweref99tm n", "n"),
    "east": ("koordinat e", "koordinat sweref99 e", "sweref99 e", "sweref 99 tm e", "sweref99tm e", "e"),
}


def parse_number(value: str) -> float | None:
    """A number written with a decimal point or comma and optional spaces; None if not a finite number."""
    text = "".join(value.replace("\u00a0", " ").split()).replace(",", ".").replace("\u2212", "-")
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?", text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _coordinates(line: int, row: dict[str, str], cols: dict[str, str],
                 errors: list[RowError]) -> tuple[float | None, float | None]:
    """Latitude and longitude of a row from lat/lon or SWEREF 99 TM N/E columns (None, None if blank)."""

    def cell(key: str) -> str:
        return row.get(cols[key], "") if key in cols else ""

    if cell("lat") or cell("lon"):
        lat_text, lon_text, kind = cell("lat"), cell("lon"), "wgs84"
        names = (cols.get("lat", "latitud"), cols.get("lon", "longitud"))
    elif cell("north") or cell("east"):
        lat_text, lon_text, kind = cell("north"), cell("east"), "sweref"
        names = (cols.get("north", "koordinat n"), cols.get("east", "koordinat e"))
    else:
        return None, None
    first, second = parse_number(lat_text), parse_number(lon_text)
    bad = False
    for value, text, name in ((first, lat_text, names[0]), (second, lon_text, names[1])):
        if not text:
            errors.append(RowError(line, name, _l("Both coordinates are needed, or neither.")))
            bad = True
        elif value is None:
            errors.append(RowError(line, name, _l("\"%(value)s\" is not a number.", value=text[:40])))
            bad = True
    if bad:
        return None, None
    if kind == "sweref":
        if not (6_000_000 <= first <= 7_800_000 and 200_000 <= second <= 1_000_000):
            errors.append(RowError(line, names[0], _l("The SWEREF 99 TM coordinates are outside Sweden.")))
            return None, None
        first, second = sweref99tm_to_wgs84(first, second)
    if not in_sweden(first, second):
        errors.append(RowError(line, names[0], _l("The coordinates are outside Sweden (latitude 55–69, "
                                                  "longitude 10–25). Are latitude and longitude swapped?")))
        return None, None
    return round(first, 7), round(second, 7)


@dataclass
class ImportResult:
    """What an import did, or why it did nothing."""

    created: int = 0
    updated: int = 0
    persons: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Families of the file that look like ones already registered (same contact and birth years, no dossier
    # number): nothing is imported until the user confirms. Each is (family key, contact name).
    duplicates: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file was imported."""
        return not self.errors and not self.duplicates


def _read(data: bytes, spec: dict, required: tuple[str, ...], max_rows: int):
    """Parse the file and map the columns; return (table, columns) or raise CsvInvalid."""
    table = csvio.read_csv(data, max_rows=max_rows)
    cols, errors = csvio.resolve_columns(table.header, spec, required)
    if errors:
        raise csvio.CsvInvalid(errors)
    return table, cols


def _sorted(errors: list[RowError]) -> list[RowError]:
    return sorted(errors, key=lambda e: e.line)[: csvio.MAX_ERRORS]


# --- schools -----------------------------------------------------------------------------------------

SCHOOL_COLUMNS = {
    "code": ("skolenhetskod", "skolenhet kod", "kod", "code"),
    "name": ("skolenhetens namn", "namn", "skolenhetsnamn", "skolnamn", "name"),
    "street": ("besöksadress", "adress", "besöksadress gata", "gatuadress", "street"),
    "postal_code": ("postnummer", "postnr", "besökspostnummer", "besöksadress postnr", "postal code"),
    "town": ("postort", "ort", "besöksort", "besöksadress ort", "town"),
    "municipality": ("kommunkod", "kommun", "municipality code"),
    "status": ("status",),
    **COORDINATE_COLUMNS,
}
INACTIVE_STATUSES = {"upphörd", "upphörd skolenhet", "nedlagd", "inactive", "closed"}


def import_schools(data: bytes, actor=None, max_rows: int = csvio.MAX_ROWS) -> ImportResult:
    """Import a Skolverket school-unit CSV; a school already known by its code is updated."""
    try:
        table, cols = _read(data, SCHOOL_COLUMNS, ("code", "name"), max_rows)
    except csvio.CsvInvalid as e:
        return ImportResult(errors=e.errors)
    errors: list[RowError] = []
    parsed: dict[str, dict] = {}
    first_line: dict[str, int] = {}
    for line, row in table.rows:
        code = "".join(row[cols["code"]].split())
        name = row[cols["name"]]
        if not CODE_RE.match(code):
            errors.append(RowError(line, cols["code"], _l("A skolenhetskod has exactly 8 digits, not \"%(value)s\".",
                                                         value=code[:20])))
        elif code in first_line:
            errors.append(RowError(line, cols["code"], _l("The code is also on line %(other)d.",
                                                         other=first_line[code])))
        if not name:
            errors.append(RowError(line, cols["name"], _l("The name is missing.")))
        elif len(name) > 200:
            errors.append(RowError(line, cols["name"], _l("The name is too long (at most 200 characters).")))
        raw_postal = row.get(cols.get("postal_code", ""), "")
        postal = normalise_postal_code(raw_postal)
        if raw_postal.strip() and postal is None:
            errors.append(RowError(line, cols["postal_code"], _l("A postal code has 5 digits.")))
        municipality = None
        if "municipality" in cols:
            m = re.match(r"\s*(\d{4})\b", row[cols["municipality"]])
            municipality = m.group(1) if m else None
        lat, lon = _coordinates(line, row, cols, errors)
        street = row.get(cols.get("street", ""), "")[:200] or None
        town = row.get(cols.get("town", ""), "")[:100] or None
        status = row.get(cols.get("status", ""), "").lower()
        if CODE_RE.match(code) and code not in first_line:
            first_line[code] = line
            parsed[code] = {"code": code, "name": name, "street": street, "postal_code": postal, "town": town,
                            "municipality_code": municipality, "lat": lat, "lon": lon,
                            "active": status not in INACTIVE_STATUSES}
    if errors:
        return ImportResult(errors=_sorted(errors))
    existing = {s.code: s for s in db.session.scalars(sa.select(School).where(School.code.in_(list(parsed))))}
    result = ImportResult()
    for code, values in parsed.items():
        school = existing.get(code)
        if school is None:
            db.session.add(School(**values))
            result.created += 1
        else:
            for key, value in values.items():
                if key in ("lat", "lon") and value is None:
                    continue  # a file without coordinates keeps the ones already known
                setattr(school, key, value)
            result.updated += 1
    db.session.flush()
    audit.record("import_schools", "school", None, {"created": result.created, "updated": result.updated},
                 actor=actor)
    return result


# --- families ----------------------------------------------------------------------------------------

FAMILY_COLUMNS = {
    "family": ("familj", "familjenummer", "familjenr", "hushåll", "family"),
    "role": ("roll", "typ", "role"),
    "first_name": ("förnamn", "namn", "first name"),
    "birth_year": ("födelseår", "född", "birth year"),
    "school": ("skolenhetskod", "skola", "school code"),
    "dossier": ("dossiernummer", "dossiernr", "dossier number"),
    "contact": ("kontaktperson", "kontakt", "contact person"),
    "phone": ("telefon", "tel", "phone"),
    "email": ("e-post", "epost", "email"),
    "languages": ("språk", "languages"),
    "route": ("ankomstväg", "route"),
    "needed_from": ("behov från", "behövs från", "needed from"),
    "step_free": ("rullstol/steg-fri", "steg-fri", "stegfri", "rullstol", "step free"),
    "pet_allergy": ("pälsdjursallergi", "allergi", "pet allergy"),
    "non_smoking": ("rökfritt", "rökfri", "non smoking"),
    "notes": ("anteckningar", "anteckning", "notes"),
}
ROLE_WORDS = {"vuxen": "adult", "v": "adult", "adult": "adult", "barn": "child", "b": "child", "child": "child"}
ROUTE_WORDS = {
    "anvisning": "anvisning", "anvisad": "anvisning", "asylum_ebo": "asylum_ebo", "asylum ebo": "asylum_ebo",
    "asyl": "asylum_ebo", "asyl ebo": "asylum_ebo", "ebo": "asylum_ebo", "asylsökande": "asylum_ebo",
    "resident": "resident", "boende": "resident", "bosatt": "resident", "redan bosatt": "resident",
    "other": "other", "annan": "other", "annat": "other", "övrigt": "other", "": "other",
}
YES = {"ja", "j", "x", "1", "yes", "y", "true", "sant"}
NO = {"nej", "n", "0", "no", "false", "falskt", ""}
FAMILY_FIELDS = ("dossier", "contact", "phone", "email", "languages", "route", "needed_from", "notes")
MAX_CHILD_AGE = family_service.MAX_CHILD_AGE
MIN_ADULT_AGE = family_service.MIN_ADULT_AGE  # the same rules as the family form


def _flag(line: int, value: str, column: str, errors: list[RowError]) -> bool:
    word = value.strip().lower()
    if word in YES:
        return True
    if word not in NO:
        errors.append(RowError(line, column, _l("Write \"ja\" or \"nej\", not \"%(value)s\".", value=value[:20])))
    return False


def _date(value: str) -> date | None:
    text = value.strip()
    m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _family_key(contact: str, birth_years) -> tuple[str, tuple]:
    return (" ".join((contact or "").lower().split()), tuple(sorted((y or 0) for y in birth_years)))


def likely_duplicates(prepared: list[tuple[str, family_service.FamilyData]]) -> list[tuple[str, str]]:
    """The file's families without a dossier number that match a registered family: same contact, birth years."""
    undocumented = [(key, d) for key, d in prepared if not d.dossier_number]
    if not undocumented:
        return []
    names = {_family_key(d.contact_name, [])[0] for _key, d in undocumented}
    # Names are compared in Python (SQLite's lower() folds only ASCII, and names have å, ä, ö).
    ids = [fid for fid, name in db.session.execute(sa.select(Family.id, Family.contact_name))
           if _family_key(name, [])[0] in names]
    known = set()
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for fam in db.session.scalars(sa.select(Family).where(Family.id.in_(chunk))):
            known.add(_family_key(fam.contact_name, [m.birth_year for m in fam.members]))
    return [(key, d.contact_name) for key, d in undocumented
            if _family_key(d.contact_name, [m.birth_year for m in d.members]) in known]


def import_families(data: bytes, actor=None, max_rows: int = 5000, today: date | None = None,
                    allow_duplicates: bool = False) -> ImportResult:
    """Import families from a CSV with one row per person grouped by a family key; all or nothing.

    Families that look already registered stop the import with a warning unless `allow_duplicates`.
    """
    today = today or clock.today()
    try:
        table, cols = _read(data, FAMILY_COLUMNS, ("family", "role", "birth_year", "contact", "needed_from"),
                            max_rows)
    except csvio.CsvInvalid as e:
        return ImportResult(errors=e.errors)

    def cell(row, key):
        return row.get(cols[key], "") if key in cols else ""

    errors: list[RowError] = []
    school_codes = {"".join(cell(r, "school").split()) for _, r in table.rows} - {""}
    schools = dict(db.session.execute(sa.select(School.code, School.id).where(
        School.code.in_([c for c in school_codes if CODE_RE.match(c)]))).all()) if school_codes else {}
    taken = family_service.existing_dossier_keys()
    groups: dict[str, dict] = {}
    dossier_line: dict[str, tuple[int, str]] = {}
    for line, row in table.rows:
        key = cell(row, "family")
        if not key:
            errors.append(RowError(line, cols["family"], _l("The family key is missing.")))
            continue
        if len(key) > 40:
            errors.append(RowError(line, cols["family"], _l("The family key is too long (at most 40 characters).")))
            continue
        group = groups.setdefault(key, {"line": line, "values": {}, "lines": {}, "members": [],
                                        "flags": {"step_free": False, "pet_allergy": False,
                                                  "non_smoking": False}})
        # family-level values: the first non-blank one counts; a different one later is an error
        for name in FAMILY_FIELDS:
            value = cell(row, name)
            if not value:
                continue
            if name in group["values"] and group["values"][name] != value:
                errors.append(RowError(line, cols[name], _l(
                    "This differs from line %(other)d of the same family.", other=group["lines"][name])))
            elif name not in group["values"]:
                group["values"][name] = value
                group["lines"][name] = line
        for name in ("step_free", "pet_allergy", "non_smoking"):
            if name in cols and _flag(line, cell(row, name), cols[name], errors):
                group["flags"][name] = True
        role = ROLE_WORDS.get(cell(row, "role").lower())
        if role is None:
            errors.append(RowError(line, cols["role"], _l("Write \"vuxen\" or \"barn\", not \"%(value)s\".",
                                                         value=cell(row, "role")[:20])))
        first_name = cell(row, "first_name")
        if len(first_name) > 80:
            errors.append(RowError(line, cols["first_name"], _l("The first name is too long (at most 80 characters).")))
        birth_year = None
        year_text = cell(row, "birth_year")
        if year_text:
            if not re.fullmatch(r"\d{4}", year_text):
                errors.append(RowError(line, cols["birth_year"], _l("A birth year has four digits, not \"%(value)s\".",
                                                                   value=year_text[:20])))
            else:
                birth_year = int(year_text)
                if not 1900 <= birth_year <= today.year:
                    errors.append(RowError(line, cols["birth_year"], _l(
                        "The birth year %(year)d is impossible (1900–%(this)d).", year=birth_year, this=today.year)))
                    birth_year = None
                elif role == "child" and today.year - birth_year > MAX_CHILD_AGE:
                    errors.append(RowError(line, cols["birth_year"], _l(
                        "A child born in %(year)d would be over %(age)d; is this person an adult?",
                        year=birth_year, age=MAX_CHILD_AGE)))
                elif role == "adult" and today.year - birth_year < MIN_ADULT_AGE:
                    errors.append(RowError(line, cols["birth_year"], _l(
                        "An adult born in %(year)d would be under %(age)d; is this person a child?",
                        year=birth_year, age=MIN_ADULT_AGE)))
        elif role == "child":
            errors.append(RowError(line, cols["birth_year"], _l("A child needs a birth year.")))
        school_id = None
        code = "".join(cell(row, "school").split())
        if code:
            if role == "adult":
                errors.append(RowError(line, cols["school"], _l("Only children have a school.")))
            elif not CODE_RE.match(code):
                errors.append(RowError(line, cols["school"], _l(
                    "A skolenhetskod has exactly 8 digits, not \"%(value)s\".", value=code[:20])))
            elif code not in schools:
                errors.append(RowError(line, cols["school"], _l(
                    "No school with the code %(code)s is registered; import the schools first.", code=code)))
            else:
                school_id = schools[code]
        if role is not None:
            group["members"].append(family_service.MemberData(role, first_name[:80] or None, birth_year, school_id))
        dossier = family_service.normalise_dossier(cell(row, "dossier"))
        if dossier:
            if not family_service.dossier_format_ok(dossier):
                errors.append(RowError(line, cols["dossier"], _l(
                    "A dossier number has 4 to 10 digits, optionally with one hyphen (for example 1234-5678).")))
            else:
                k = family_service.dossier_key(dossier)
                if k in taken:
                    errors.append(RowError(line, cols["dossier"], _l(
                        "Another family in the register already has this dossier number.")))
                elif k in dossier_line and dossier_line[k][1] != key:
                    errors.append(RowError(line, cols["dossier"], _l(
                        "Line %(other)d has the same dossier number for another family.",
                        other=dossier_line[k][0])))
                else:
                    dossier_line.setdefault(k, (line, key))

    prepared: list[family_service.FamilyData] = []
    for key, group in groups.items():
        values, line = group["values"], group["line"]
        if group["members"] and not any(m.kind == "adult" for m in group["members"]):
            errors.append(RowError(line, cols["role"], _l("The family \"%(key)s\" has no adult.", key=key[:40])))
        if len(group["members"]) > family_service.MAX_MEMBERS:
            errors.append(RowError(line, cols["family"], _l("A family can have at most %(n)d members.",
                                                           n=family_service.MAX_MEMBERS)))
        contact = values.get("contact", "")
        if not contact:
            errors.append(RowError(line, cols["contact"], _l("The family \"%(key)s\" has no contact person.",
                                                            key=key[:40])))
        elif len(contact) > 120:
            errors.append(RowError(group["lines"]["contact"], cols["contact"], _l("The name is too long.")))
        needed = _date(values.get("needed_from", ""))
        if needed is None:
            errors.append(RowError(group["lines"].get("needed_from", line), cols["needed_from"], _l(
                "Write the date as YYYY-MM-DD (for example 2026-03-01).")))
        elif problem := family_service.needed_from_problem(needed, today):
            errors.append(RowError(group["lines"]["needed_from"], cols["needed_from"], problem))
            needed = None
        route = ROUTE_WORDS.get(values.get("route", "").lower())
        if route is None:
            errors.append(RowError(group["lines"]["route"], cols["route"], _l(
                "The route of arrival is one of: anvisning, asyl, boende, annan.")))
        languages = [c for c in re.split(r"[\s,;/|]+", values.get("languages", "").lower()) if c]
        unknown = [c for c in languages if c not in family_service.LANGUAGES]
        if unknown:
            errors.append(RowError(group["lines"]["languages"], cols["languages"], _l(
                "Unknown language code \"%(code)s\"; use codes such as sv, en, ar, fa, prs, so, ti, uk.",
                code=unknown[0][:10])))
        phone, email = values.get("phone", ""), values.get("email", "")
        if len(phone) > 40:
            errors.append(RowError(group["lines"]["phone"], cols["phone"], _l("The phone number is too long.")))
        if email and (len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
            errors.append(RowError(group["lines"]["email"], cols["email"], _l("This is not an email address.")))
        if needed is not None and route is not None and contact:
            prepared.append((key, family_service.FamilyData(
                contact_name=contact[:120], needed_from=needed, route=route,
                dossier_number=family_service.normalise_dossier(values.get("dossier")),
                contact_phone=phone[:40] or None, contact_email=email[:254] or None, languages=languages,
                needs_step_free=group["flags"]["step_free"], pet_allergy=group["flags"]["pet_allergy"],
                needs_non_smoking=group["flags"]["non_smoking"], notes=values.get("notes") or None,
                members=group["members"])))
    if errors:
        return ImportResult(errors=_sorted(errors))
    if not allow_duplicates and (duplicates := likely_duplicates(prepared)):
        return ImportResult(duplicates=duplicates)
    result = ImportResult()
    for _key, data_ in prepared:
        family_service.create_family(data_, actor, checked=True, log=False)
        result.created += 1
        result.persons += len(data_.members)
    audit.record("import_families", "family", None, {"families": result.created, "persons": result.persons},
                 actor=actor)
    return result


# --- address points ----------------------------------------------------------------------------------

ADDRESS_COLUMNS = {
    "postal_code": ("postnummer", "postnr", "postal code", "postcode"),
    "street": ("gatuadress", "gata", "adress", "street", "address"),
    "town": ("postort", "ort", "town"),
    **COORDINATE_COLUMNS,
}


def import_addresses(data: bytes, actor=None, max_rows: int = 200_000) -> ImportResult:
    """Import address points (postal code, street, town, coordinates) for the offline geocoder."""
    try:
        table, cols = _read(data, ADDRESS_COLUMNS, ("postal_code",), max_rows)
    except csvio.CsvInvalid as e:
        return ImportResult(errors=e.errors)
    if not ({"lat", "lon"} <= cols.keys() or {"north", "east"} <= cols.keys()):
        return ImportResult(errors=[RowError(1, "latitud", _l(
            "The coordinate columns are missing: latitud and longitud, or koordinat N and koordinat E."))])
    errors: list[RowError] = []
    parsed: dict[tuple[str, str], dict] = {}
    first_line: dict[tuple[str, str], int] = {}
    for line, row in table.rows:
        postal = normalise_postal_code(row[cols["postal_code"]])
        if postal is None:
            errors.append(RowError(line, cols["postal_code"], _l("A postal code has 5 digits.")))
        street = normalise_street(row.get(cols.get("street", ""), ""))
        if len(street) > 200:
            errors.append(RowError(line, cols["street"], _l("The street is too long (at most 200 characters).")))
        lat, lon = _coordinates(line, row, cols, errors)
        if lat is None and not any(e.line == line for e in errors[-3:]):
            errors.append(RowError(line, cols.get("lat", cols.get("north", "")), _l("The coordinates are missing.")))
        key = (postal or "", street)
        if key in first_line:
            errors.append(RowError(line, cols["postal_code"], _l("The same address is also on line %(other)d.",
                                                                other=first_line[key])))
            continue
        first_line[key] = line
        parsed[key] = {"postal_code": postal, "street": street,
                       "town": row.get(cols.get("town", ""), "")[:100] or None, "lat": lat, "lon": lon}
        if len(errors) >= csvio.MAX_ERRORS:
            break
    if errors:
        return ImportResult(errors=_sorted(errors))
    result = ImportResult()
    postal_codes = sorted({k[0] for k in parsed})
    existing: dict[tuple[str, str], AddressPoint] = {}
    for i in range(0, len(postal_codes), 500):
        chunk = postal_codes[i:i + 500]
        for point in db.session.scalars(sa.select(AddressPoint).where(AddressPoint.postal_code.in_(chunk))):
            existing[(point.postal_code, point.street)] = point
    new_rows = []
    for key, values in parsed.items():
        point = existing.get(key)
        if point is None:
            new_rows.append(values)
        else:
            point.town, point.lat, point.lon = values["town"], values["lat"], values["lon"]
            result.updated += 1
    if new_rows:
        db.session.execute(sa.insert(AddressPoint), new_rows)
    result.created = len(new_rows)
    db.session.flush()
    audit.record("import_addresses", "address_point", None, {"created": result.created, "updated": result.updated},
                 actor=actor)
    return result


def import_upload(stream, importer, user, limit: int) -> ImportResult:
    """Read an uploaded file (refusing one over `limit` bytes) and import it all or nothing with `importer`."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        message = _l("The file is too large (at most %(mb)d MB).", mb=limit // (1024 * 1024))
        return ImportResult(errors=[RowError(1, "", message)])
    return importer(data, user)
