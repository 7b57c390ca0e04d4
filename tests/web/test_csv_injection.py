"""CSV exports are safe in every spreadsheet: no cell evaluates, whether split on ',' or ';'."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebo.services import placements as svc
from ebo.services.csvio import FORMULA_START, safe_cell
from tests.conftest import PASSWORD
from tests.web import placement_factories as pf

ATTACKS = ["Eva;=1+1;", "Eva,=1+1,", "Eva; =1+1", "x;+1", "x,-1", "x;@SUM(A1)", "x;\t=1", "x\n=1+1",
           'a"=1+1', "=HYPERLINK(\"http://evil.example\")", "+46 70", "-", "@", "\tx", "\rx", "a;;=2"]

# What a spreadsheet might read as the start of a formula (OWASP), after spaces or a stray quote.
_START = tuple(FORMULA_START)


def evaluated_cells(text: str) -> list[str]:
    """Cells that start a formula when the export is split on ',', ';' or tab (csv-aware and naively)."""
    bad = []
    for sep in (",", ";", "\t"):
        cells = [c for row in csv.reader(io.StringIO(text, newline=""), delimiter=sep) for c in row]
        cells += [c for line in text.splitlines() for c in line.split(sep)]
        for cell in cells:
            stripped = cell.lstrip(' \u00a0"')
            if stripped.startswith(_START) or (cell.startswith(_START)):
                bad.append(cell)
    return bad


@pytest.mark.parametrize("value", ATTACKS)
def test_safe_cell_neutralises_every_embedded_formula(value):
    line = io.StringIO()
    csv.writer(line, quoting=csv.QUOTE_ALL).writerow(["id", safe_cell(value), "end"])
    assert evaluated_cells(line.getvalue()) == []


def test_the_check_would_catch_the_old_export():
    """The unescaped form (quoted, but no ' after ';') is caught by the check above."""
    line = io.StringIO()
    csv.writer(line, quoting=csv.QUOTE_ALL).writerow(["id", "Eva;=1+1;", "end"])
    assert evaluated_cells(line.getvalue())


def test_safe_cell_keeps_plain_text_and_is_idempotent():
    for value in ("Anna Andersson", "Ekvägen 1, 123 45 Sjövik", "Skola 1.2 km; Skola 2 km", "2026-01-01"):
        assert safe_cell(value) == value
    for value in ATTACKS:
        assert safe_cell(safe_cell(value)) == safe_cell(value)


_alphabet = st.sampled_from(list("ab ;,=+-@\t\r\n\"'1"))
names = st.text(alphabet=_alphabet, min_size=1, max_size=20).filter(lambda s: s.strip())


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(family_name=names, host_name=names)
def test_placements_export_has_no_evaluated_cell(db, family_name, host_name):
    fam = pf.family(adults=1, name=family_name)
    host = pf.host(name=host_name)
    pf.placement(fam, host, dt.date(2026, 1, 5))
    db.session.flush()
    text, rows = svc.export_csv(svc.parse_filters({}))
    db.session.rollback()
    assert rows == 1
    assert evaluated_cells(text) == [], text
    parsed = list(csv.reader(io.StringIO(text)))
    assert all(text.count('"') >= 2 * len(r) for r in parsed[:1])  # every field quoted


def test_placements_export_over_http(client, login_as, db):
    fam = pf.family(adults=1, name="Eva;=1+1;")
    pf.placement(fam, pf.host(name="Bo,+2"), dt.date(2026, 1, 5))
    db.session.commit()
    login_as("caseworker")
    resp = client.post("/placements/export", data={"your_password": PASSWORD})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True).lstrip("\ufeff")
    assert evaluated_cells(text) == []
    first_line = text.splitlines()[0]
    assert first_line.startswith('"placement_id","family_id"')  # every field quoted
    assert "Eva;'=1+1;" in text and "Bo,'+2" in text
