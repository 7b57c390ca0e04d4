"""CSV imports: schools, families, address points; every failure kind imports nothing."""

from __future__ import annotations

import io
from contextlib import contextmanager
from pathlib import Path

import flask_babel
import pytest
import sqlalchemy as sa
from flask import session

from ebo.models import AddressPoint, AuditEvent, Family, FamilyMember, HealthNote, School
from ebo.services import csvio, imports
from tests.conftest import count

DATA = Path(__file__).resolve().parent.parent / "data"
FAMILY_HEADER = "familj,roll,förnamn,födelseår,skolenhetskod,dossiernummer,kontaktperson,språk,ankomstväg,behov från"


@contextmanager
def english_context(app):
    """A request context whose interface language is English, for reading messages."""
    with app.test_request_context():
        session["lang"] = "en"
        flask_babel.refresh()
        yield


def upload(client, url, payload: bytes, name="file.csv"):
    return client.post(url, data={"file": (io.BytesIO(payload), name)}, content_type="multipart/form-data")


def english(client):
    client.post("/language", data={"lang": "en", "next": "/"})


def family_rows(*rows: str) -> bytes:
    return ("\n".join([FAMILY_HEADER, *rows]) + "\n").encode()


def snapshot():
    return (count(Family), count(FamilyMember), count(HealthNote), count(School), count(AddressPoint))


@pytest.fixture
def schools(db):
    result = imports.import_schools((DATA / "skolverket_skolenheter.csv").read_bytes())
    assert result.ok, [(e.line, e.column, str(e.message)) for e in result.errors]
    db.session.commit()
    return result


# --- csvio ---------------------------------------------------------------------------------------------

def test_csv_reads_bom_semicolons_and_normalises_header(app, db):
    table = csvio.read_csv("\ufeffSkolenhetskod ; Skolenhetens  NAMN;Besöksadress\n1;Å;Ö\n".encode())
    assert table.delimiter == ";"
    assert table.header == ["skolenhetskod", "skolenhetens namn", "besöksadress"]
    assert table.rows == [(2, {"skolenhetskod": "1", "skolenhetens namn": "Å", "besöksadress": "Ö"})]


def test_csv_comma_and_quoted_newline_keep_line_numbers(app, db):
    table = csvio.read_csv(b'a,b\n1,"two\nlines"\n3,4\n')
    assert [line for line, _ in table.rows] == [2, 4]


@pytest.mark.parametrize("payload, needle", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"a;b\n", "no rows"),
    ("a;b\n1;Malmö\n2;Gävle\n".encode("latin-1"), "line 2"),
    ("a;b\n1;2\n".encode("utf-16"), "UTF-16"),
    ("a;b\n1;2\n".encode("utf-16-le"), "UTF-16"),
    (b'a;b\n1;"open\n', "quote"),
    (b"a;b\n1;2;3\n", "3 fields"),
    (b"a;a\n1;2\n", "twice"),
])
def test_csv_errors_are_clear(app, db, payload, needle):
    with english_context(app):
        with pytest.raises(csvio.CsvInvalid) as info:
            csvio.read_csv(payload)
        text = " ".join(str(e.message) for e in info.value.errors)
    assert needle.lower() in text.lower(), text


def test_csv_latin1_names_line_and_byte(app, db):
    payload = "a;b\n1;ok\n2;Malmö\n".encode("latin-1")
    with english_context(app):
        with pytest.raises(csvio.CsvInvalid) as info:
            csvio.read_csv(payload)
        err = info.value.errors[0]
        assert err.line == 3
        offset = payload.index("ö".encode("latin-1")) + 1
        assert f"byte {offset}" in str(err.message)
        assert "UTF-8" in str(err.message)


def test_csv_max_rows_and_size(app, db):
    with english_context(app):
        with pytest.raises(csvio.CsvInvalid):
            csvio.read_csv(b"a\n" + b"1\n" * 11, max_rows=10)
        with pytest.raises(csvio.CsvInvalid):
            csvio.read_csv(b"a\n1\n", max_bytes=3)


# --- coordinates ---------------------------------------------------------------------------------------

def test_sweref99tm_published_point():
    # Stockholm Central Station as published with SWEREF 99 TM N 6580822, E 674032 (whole metres)
    lat, lon = imports.sweref99tm_to_wgs84(6580822, 674032)
    assert lat == pytest.approx(59.330231, abs=1e-5) and lon == pytest.approx(18.059196, abs=1e-5)


def test_sweref99tm_central_meridian_and_scale():
    # On the central meridian (E 500 000 m) the longitude is exactly 15°, and the northing is the GRS 80
    # meridian arc (6 654 072.8 m to 60°) scaled by 0.9996
    lat, lon = imports.sweref99tm_to_wgs84(6654072.8 * 0.9996, 500000.0)
    assert lon == pytest.approx(15.0, abs=1e-9)
    assert lat == pytest.approx(60.0, abs=1e-5)


@pytest.mark.parametrize("north, east", [(6_100_000, 320_000), (6_580_822, 674_032), (7_300_000, 850_000)])
def test_sweref99tm_conversion_lands_in_sweden(north, east):
    lat, lon = imports.sweref99tm_to_wgs84(north, east)
    assert 54 < lat < 70.5 and 9 < lon < 25.5
    assert lat > imports.sweref99tm_to_wgs84(north - 1000, east)[0]  # further north is further north


# --- schools -------------------------------------------------------------------------------------------

def test_school_import_happy_path_with_bom_semicolons_and_sweref(app, db, schools):
    assert schools.created == 4
    s = db.session.scalar(sa.select(School).where(School.code == "12345678"))
    assert s.name == "Ängsskolan" and s.postal_code == "123 45" and s.municipality_code == "0180"
    assert s.lat == pytest.approx(59.3293, abs=1e-4) and s.lon == pytest.approx(18.0686, abs=1e-4)
    quoted = db.session.scalar(sa.select(School).where(School.code == "34567890"))
    assert quoted.street == "Gatan 3; hus B" and quoted.lat is None
    assert db.session.scalar(sa.select(School.active).where(School.code == "45678901")) is False


def test_school_reimport_updates_by_code(app, db, schools):
    payload = ("Skolenhetskod,Namn,Adress,Postnummer,Postort,Latitud,Longitud\n"
               "12345678,Ängsskolan F-9,Nya vägen 2,12345,Storstad,\"59,5\",\"18,1\"\n"
               "99999999,Nya skolan,,,,,\n").encode()
    result = imports.import_schools(payload)
    assert result.ok and (result.created, result.updated) == (1, 1)
    db.session.commit()
    s = db.session.scalar(sa.select(School).where(School.code == "12345678"))
    assert s.name == "Ängsskolan F-9" and s.street == "Nya vägen 2" and s.lat == pytest.approx(59.5)
    assert count(School) == 5


@pytest.mark.parametrize("payload, line, column", [
    (b"Namn;Ort\nX;Y\n", 1, "skolenhetskod"),
    (b"Skolenhetskod;Namn\n1234567;X\n", 2, "skolenhetskod"),
    (b"Skolenhetskod;Namn\n12345678;X\n12345678;Y\n", 3, "skolenhetskod"),
    (b"Skolenhetskod;Namn\n12345678;\n", 2, "namn"),
    (b"Skolenhetskod;Namn;Latitud;Longitud\n12345678;X;18,0;59,3\n", 2, "latitud"),
    (b"Skolenhetskod;Namn;Latitud;Longitud\n12345678;X;59,3;\n", 2, "longitud"),
    (b"Skolenhetskod;Namn;Latitud;Longitud\n12345678;X;abc;18\n", 2, "latitud"),
    (b"Skolenhetskod;Namn;Koordinat N;Koordinat E\n12345678;X;100;200\n", 2, "koordinat n"),
])
def test_school_import_errors_write_nothing(app, db, payload, line, column):
    before = snapshot()
    result = imports.import_schools(payload)
    assert not result.ok
    assert (result.errors[0].line, result.errors[0].column) == (line, column)
    assert snapshot() == before


def test_school_import_page(client, login_as):
    login_as("caseworker")
    english(client)
    resp = upload(client, "/schools/import", (DATA / "skolverket_skolenheter.csv").read_bytes())
    assert resp.status_code == 302
    assert count(School) == 4
    resp = upload(client, "/schools/import", "Skolenhetskod;Namn\n1;X\n".encode("utf-16"))
    assert resp.status_code == 422
    assert b"Nothing was imported" in resp.data and b"UTF-16" in resp.data
    resp = client.post("/schools/import", data={}, content_type="multipart/form-data")
    assert resp.status_code == 200 and b"Choose a file" in resp.data


# --- families ------------------------------------------------------------------------------------------

def test_family_import_happy_path(app, db, schools):
    result = imports.import_families((DATA / "families.csv").read_bytes())
    assert result.ok, [(e.line, e.column, str(e.message)) for e in result.errors]
    assert (result.created, result.persons) == (3, 7)
    db.session.commit()
    f1 = db.session.scalar(sa.select(Family).where(Family.dossier_number == "1234-5678"))
    assert f1.contact_name == "Amal Hassan" and f1.route == "anvisning" and f1.languages == ["ar", "sv"]
    assert f1.pet_allergy and f1.needs_non_smoking and not f1.needs_step_free
    assert [m.kind for m in f1.members] == ["adult", "adult", "child", "child"]
    assert f1.children[0].school.code == "12345678" and f1.children[1].school is None
    f2 = db.session.scalar(sa.select(Family).where(Family.dossier_number == "87654321"))
    assert f2.route == "asylum_ebo" and f2.needs_step_free
    f3 = db.session.scalar(sa.select(Family).where(Family.contact_name == "Reza Ahmadi"))
    assert f3.route == "resident" and f3.dossier_number is None
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "import_families")).details == {
        "families": 3, "persons": 7}


def _bad(line, *rows):
    return family_rows(*rows), line


GOOD = "A,vuxen,Anna,1980,,,Anna A,sv,anvisning,2026-05-01"
FAILURES = {
    "malformed": (family_rows(GOOD, 'A,barn,"Bo,2015,,,,,,'), 3, ""),
    "too_many_fields": (family_rows(GOOD, "A,barn,Bo,2015,,,,,,,extra"), 3, ""),
    "duplicate_dossier_in_file": (family_rows("A,vuxen,Anna,1980,,1111-2222,Anna A,sv,anvisning,2026-05-01",
                                              "B,vuxen,Bea,1981,,11112222,Bea B,sv,anvisning,2026-05-01"),
                                  3, "dossiernummer"),
    "bad_dossier_format": (family_rows("A,vuxen,Anna,1980,,12-34-56,Anna A,sv,anvisning,2026-05-01"),
                           2, "dossiernummer"),
    "unknown_school": (family_rows(GOOD, "A,barn,Bo,2015,87878787,,,,,"), 3, "skolenhetskod"),
    "impossible_birth_year": (family_rows(GOOD, "A,barn,Bo,2999,,,,,,"), 3, "födelseår"),
    "birth_year_not_a_year": (family_rows(GOOD, "A,barn,Bo,20x5,,,,,,"), 3, "födelseår"),
    "child_too_old": (family_rows(GOOD, "A,barn,Bo,1950,,,,,,"), 3, "födelseår"),
    "child_without_birth_year": (family_rows(GOOD, "A,barn,Bo,,,,,,,"), 3, "födelseår"),
    "no_adult": (family_rows("A,barn,Bo,2015,,,Anna A,sv,anvisning,2026-05-01"), 2, "roll"),
    "unknown_role": (family_rows(GOOD, "A,kusin,Bo,2015,,,,,,"), 3, "roll"),
    "no_contact": (family_rows("A,vuxen,Anna,1980,,,,sv,anvisning,2026-05-01"), 2, "kontaktperson"),
    "bad_date": (family_rows("A,vuxen,Anna,1980,,,Anna A,sv,anvisning,1/5/2026"), 2, "behov från"),
    "unknown_language": (family_rows("A,vuxen,Anna,1980,,,Anna A,xx,anvisning,2026-05-01"), 2, "språk"),
    "unknown_route": (family_rows("A,vuxen,Anna,1980,,,Anna A,sv,flyg,2026-05-01"), 2, "ankomstväg"),
    "conflicting_family_values": (family_rows(GOOD, "A,vuxen,Bo,1980,,,Bo B,,,"), 3, "kontaktperson"),
    "school_for_adult": (family_rows("A,vuxen,Anna,1980,12345678,,Anna A,sv,anvisning,2026-05-01"),
                         2, "skolenhetskod"),
    "missing_column": ("familj,roll,förnamn,kontaktperson,behov från\nA,vuxen,Anna,Anna A,2026-05-01\n".encode(),
                       1, "födelseår"),
    "empty_file": (b"", 1, ""),
    "header_only": (FAMILY_HEADER.encode() + b"\n", 1, ""),
    "latin1": (family_rows("A,vuxen,Åsa,1980,,,Åsa Ö,sv,anvisning,2026-05-01").decode().encode("latin-1"), 1, ""),
    "utf16": (family_rows(GOOD).decode().encode("utf-16"), 1, ""),
}


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_family_import_failures_write_nothing(app, db, schools, kind):
    payload, line, column = FAILURES[kind]
    before = snapshot()
    audit_before = count(AuditEvent)
    result = imports.import_families(payload)
    assert not result.ok
    assert any(e.line == line and e.column == column for e in result.errors), [
        (e.line, e.column, str(e.message)) for e in result.errors]
    assert snapshot() == before
    assert count(AuditEvent) == audit_before


def test_family_import_duplicate_dossier_against_database(app, db, schools):
    assert imports.import_families((DATA / "families.csv").read_bytes()).ok
    db.session.commit()
    before = snapshot()
    result = imports.import_families(family_rows(
        "N,vuxen,Nils,1980,,12345678,Nils N,sv,anvisning,2026-05-01",
        "M,vuxen,Mia,1982,,,Mia M,sv,anvisning,2026-05-01"))
    assert [(e.line, e.column) for e in result.errors] == [(2, "dossiernummer")]
    assert snapshot() == before


def test_family_import_lists_every_bad_row(app, db, schools):
    result = imports.import_families(family_rows(
        GOOD, "A,barn,Bo,2999,,,,,,", "B,vuxen,Bea,1981,,,Bea B,sv,anvisning,2026-05-01",
        "B,barn,Cy,2014,87878787,,,,,", "C,barn,Di,2016,,,Di D,sv,anvisning,2026-05-01"))
    assert sorted((e.line, e.column) for e in result.errors) == [
        (3, "födelseår"), (5, "skolenhetskod"), (6, "roll")]


def test_family_import_page_lists_errors_in_english(client, login_as):
    login_as("caseworker")
    english(client)
    before = count(Family)
    resp = upload(client, "/families/import",
                  family_rows(GOOD, "A,barn,Bo,2999,,,,,,", "B,barn,X,2015,,,B,sv,,2026-01-01"))
    assert resp.status_code == 422
    html = resp.data.decode()
    assert "Nothing was imported" in html and "impossible" in html and "has no adult" in html
    assert count(Family) == before


def test_family_import_page_happy_path(client, login_as, schools):
    login_as("caseworker")
    resp = upload(client, "/families/import", (DATA / "families.csv").read_bytes())
    assert resp.status_code == 302
    assert count(Family) == 3 and count(FamilyMember) == 7


def test_family_import_page_rejects_oversized_upload(client, login_as, monkeypatch):
    # a small limit: werkzeug's test client leaks a temporary file for bodies over 500 kB
    monkeypatch.setattr("ebo.families.views.UPLOAD_LIMIT", 100)
    login_as("caseworker")
    resp = upload(client, "/families/import", (DATA / "families.csv").read_bytes())
    assert resp.status_code == 422
    assert count(Family) == 0


# --- address points ------------------------------------------------------------------------------------

def test_address_import_and_update(app, db):
    result = imports.import_addresses((DATA / "addresses.csv").read_bytes())
    assert result.ok and result.created == 3
    db.session.commit()
    p = db.session.scalar(sa.select(AddressPoint).where(AddressPoint.street == "storgatan 1"))
    assert p.postal_code == "123 45" and p.lat == pytest.approx(59.33)
    again = imports.import_addresses(b"postnr,gata,ort,koordinat N,koordinat E\n12345,Storgatan  1,Storstad,"
                                     b"6580743,674572\n")
    assert again.ok and (again.created, again.updated) == (0, 1)
    db.session.commit()
    db.session.refresh(p)
    assert p.lat == pytest.approx(59.3293, abs=1e-4)


@pytest.mark.parametrize("payload, line, column", [
    (b"gata;ort\nX;Y\n", 1, "postnummer"),
    (b"postnummer;latitud;longitud\n1234;59;18\n", 2, "postnummer"),
    (b"postnummer;latitud;longitud\n12345;;\n", 2, "latitud"),
    (b"postnummer;latitud;longitud\n12345;59;18\n12345;59;18\n", 3, "postnummer"),
    (b"postnummer;ort\n12345;X\n", 1, "latitud"),
])
def test_address_import_errors_write_nothing(app, db, payload, line, column):
    result = imports.import_addresses(payload)
    assert not result.ok
    assert (result.errors[0].line, result.errors[0].column) == (line, column)
    assert count(AddressPoint) == 0


def test_address_page_for_caseworker_and_admin(client, login_as):
    login_as("admin")
    assert client.get("/admin/addresses").status_code == 200
    resp = upload(client, "/admin/addresses", (DATA / "addresses.csv").read_bytes())
    assert resp.status_code == 302 and count(AddressPoint) == 3


# --- commands ------------------------------------------------------------------------------------------

def test_import_commands(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-schools", str(DATA / "skolverket_skolenheter.csv")])
    assert result.exit_code == 0, result.output
    assert "4 added" in result.output
    result = runner.invoke(args=["import-families", str(DATA / "families.csv")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["import-addresses", str(DATA / "addresses.csv")])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert (count(School), count(Family), count(AddressPoint)) == (4, 3, 3)
    result = runner.invoke(args=["import-families", str(DATA / "families.csv")])
    assert result.exit_code != 0 and "nothing was imported" in result.output.lower()
    assert "line 2" in result.output
    db.session.remove()
    assert count(Family) == 3
