"""Generated CSV files never give a 500 and never a partial import."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ebo.models import AddressPoint, Family, FamilyMember, School
from tests.conftest import count

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

FAMILY_COLUMNS = ["familj", "roll", "förnamn", "födelseår", "skolenhetskod", "dossiernummer", "kontaktperson",
                  "språk", "ankomstväg", "behov från", "rökfritt"]
CELL = {
    "familj": st.sampled_from(["A", "B", "C", "", "x" * 50]),
    "roll": st.sampled_from(["vuxen", "barn", "Vuxen", "kusin", ""]),
    "förnamn": st.text(max_size=12),
    "födelseår": st.sampled_from(["1980", "2015", "2999", "1899", "20x5", "", "1850"]),
    "skolenhetskod": st.sampled_from(["", "12345678", "87654321", "1234"]),
    "dossiernummer": st.sampled_from(["", "1234-5678", "12345678", "12-34-56", "999"]),
    "kontaktperson": st.sampled_from(["", "Anna A", "Bo B", "Å" * 130]),
    "språk": st.sampled_from(["", "sv", "ar fa", "xx", "sv,uk"]),
    "ankomstväg": st.sampled_from(["", "anvisning", "asyl", "flyg"]),
    "behov från": st.sampled_from(["2026-05-01", "", "1/5/2026", "2026-02-30", "20260601"]),
    "rökfritt": st.sampled_from(["", "ja", "nej", "kanske"]),
}
structured_row = st.fixed_dictionaries({c: CELL[c] for c in FAMILY_COLUMNS})
encodings = st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"])


def to_csv(header, rows, delimiter: str) -> str:
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(c, "") for c in header])
    return out.getvalue()


@st.composite
def valid_family_text(draw, delimiter: str) -> str:
    rows = []
    for key in draw(st.lists(st.text("ABCDEFGH", min_size=1, max_size=3), min_size=1, max_size=4, unique=True)):
        rows.append({"familj": key, "roll": "vuxen", "förnamn": draw(st.text(max_size=10)), "födelseår": "1980",
                     "kontaktperson": draw(st.text(min_size=1, max_size=20).filter(str.strip)),
                     "språk": draw(st.sampled_from(["", "sv", "ar fa"])), "behov från": "2026-05-01",
                     "skolenhetskod": "", "dossiernummer": "", "ankomstväg": "", "rökfritt": ""})
        for _ in range(draw(st.integers(0, 3))):
            rows.append({**{c: "" for c in FAMILY_COLUMNS}, "familj": key, "roll": "barn", "födelseår": "2015",
                         "skolenhetskod": draw(st.sampled_from(["", "12345678"]))})
    return to_csv(FAMILY_COLUMNS, rows, delimiter)


@st.composite
def family_files(draw) -> bytes:
    kind = draw(st.sampled_from(["structured", "structured", "mangled", "random", "valid", "valid"]))
    if kind == "random":
        return draw(st.binary(max_size=400))
    if kind == "valid":
        return draw(valid_family_text(draw(st.sampled_from([",", ";"])))).encode(draw(st.sampled_from(
            ["utf-8", "utf-8-sig"])))
    header = draw(st.permutations(FAMILY_COLUMNS))
    header = header[: draw(st.integers(min_value=len(header) - 2, max_value=len(header)))]
    text = to_csv(header, draw(st.lists(structured_row, max_size=8)), draw(st.sampled_from([",", ";"])))
    if kind == "mangled":
        pos = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:pos] + draw(st.sampled_from(['"', ";", ",", "\n", "\x00", "\r", '""'])) + text[pos:]
    try:
        return text.encode(draw(encodings))
    except UnicodeEncodeError:
        return text.encode("utf-8")


def upload(client, url, payload: bytes):
    return client.post(url, data={"file": (io.BytesIO(payload), "f.csv")}, content_type="multipart/form-data")


def expected_families(payload: bytes) -> int:
    text = payload.decode("utf-8-sig")
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    return len({r["familj"].strip() for r in rows})


@FUZZ
@given(payload=family_files())
def test_family_import_never_500_never_partial(client, login_as, db, payload):
    if not getattr(client, "_fuzz_ready", False):
        login_as("caseworker")
        db.session.add(School(code="12345678", name="S"))
        db.session.commit()
        client._fuzz_ready = True
    before = (count(Family), count(FamilyMember))
    resp = upload(client, "/families/import", payload)
    event(f"status {resp.status_code}")
    assert resp.status_code in (302, 422, 200), resp.status_code
    db.session.expire_all()
    after = (count(Family), count(FamilyMember))
    if resp.status_code == 302:
        assert after[0] - before[0] == expected_families(payload)
    else:
        assert after == before


SCHOOL_CELL = st.one_of(st.sampled_from(["12345678", "23456789", "1234567", "", "59,3", "18.07", "6580743",
                                         "674572", "Skola", "Upphörd", "abc"]), st.text(max_size=8))
SCHOOL_HEADERS = ["Skolenhetskod", "Skolenhetens namn", "Postnr", "Latitud", "Longitud", "Koordinat N",
                  "Koordinat E", "Status", "Kommunkod"]


@st.composite
def school_files(draw) -> bytes:
    if draw(st.booleans()) and draw(st.booleans()):
        return draw(st.binary(max_size=300))
    header = draw(st.lists(st.sampled_from(SCHOOL_HEADERS), min_size=1, max_size=7, unique=True))
    rows = draw(st.lists(st.fixed_dictionaries({h: SCHOOL_CELL for h in header}), max_size=6))
    text = to_csv(header, rows, draw(st.sampled_from([",", ";"])))
    try:
        return text.encode(draw(encodings))
    except UnicodeEncodeError:
        return text.encode("utf-8")


@FUZZ
@given(payload=school_files())
def test_school_import_never_500_never_partial(client, login_as, db, payload):
    if not getattr(client, "_fuzz_ready", False):
        login_as("caseworker")
        client._fuzz_ready = True
    before = count(School)
    resp = upload(client, "/schools/import", payload)
    event(f"status {resp.status_code}")
    assert resp.status_code in (302, 422, 200)
    if resp.status_code != 302:
        assert count(School) == before


ADDRESS_CELL = st.one_of(st.sampled_from(["12345", "123 45", "1234", "", "59,3", "18.07", "6580743", "674572",
                                          "Storgatan 1"]), st.text(max_size=8))


@FUZZ
@given(header=st.lists(st.sampled_from(["postnummer", "gatuadress", "postort", "latitud", "longitud",
                                        "koordinat N", "koordinat E"]), min_size=1, max_size=6, unique=True),
       data=st.data())
def test_address_import_never_500_never_partial(client, login_as, db, header, data):
    if not getattr(client, "_fuzz_ready", False):
        login_as("admin")
        client._fuzz_ready = True
    rows = data.draw(st.lists(st.fixed_dictionaries({h: ADDRESS_CELL for h in header}), max_size=6))
    payload = to_csv(header, rows, data.draw(st.sampled_from([",", ";"]))).encode()
    before = count(AddressPoint)
    resp = upload(client, "/admin/addresses", payload)
    event(f"status {resp.status_code}")
    assert resp.status_code in (302, 422, 200)
    if resp.status_code != 302:
        assert count(AddressPoint) == before
