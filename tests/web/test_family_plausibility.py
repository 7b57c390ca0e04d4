"""Issue 14's defects on the registry side: plausible family data, duplicate imports, unplanned visits."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from ebo import clock
from ebo.models import Family
from ebo.services import imports
from ebo.services import placements as psvc
from tests.web import placement_factories as pf
from tests.web.test_families import english, form_data

THIS_YEAR = clock.today().year


@pytest.mark.parametrize("over, needle", [
    ({"members-1-birth_year": str(THIS_YEAR + 5)}, f"The birth year {THIS_YEAR + 5} is in the future."),
    ({"members-0-birth_year": str(THIS_YEAR - 2)}, f"An adult born in {THIS_YEAR - 2} would be under 18"),
    ({"members-1-birth_year": "1800"}, "Enter a birth year from 1900 to this year."),
    ({"needed_from": "9999-12-31"}, "The date is more than 2 years ahead"),
    ({"needed_from": (clock.today() + dt.timedelta(days=3 * 366)).isoformat()}, "more than 2 years ahead"),
])
def test_implausible_family_data_is_refused_in_words(client, login_as, db, over, needle):
    login_as("caseworker")
    english(client)
    resp = client.post("/families/new", data=form_data(dossier_number="", **over))
    html = resp.get_data(as_text=True)
    assert resp.status_code in (200, 400, 422) and needle in html, html[html.find("error"):][:600]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Family)) == 0


def test_plausible_family_is_saved(client, login_as, db):
    login_as("caseworker")
    soon = (clock.today() + dt.timedelta(days=300)).isoformat()
    resp = client.post("/families/new", data=form_data(dossier_number="", needed_from=soon,
                                                       **{"members-0-birth_year": str(THIS_YEAR - 18)}))
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Family)) == 1


def test_adult_under_18_in_an_import_is_refused(app, db):
    rows = "\n".join(["familj,roll,förnamn,födelseår,kontaktperson,behov från",
                      f"A,vuxen,Bo,{THIS_YEAR - 16},Bo B,2026-12-20"]).encode()
    assert not imports.import_families(rows).ok


FILE = ("familj,roll,förnamn,födelseår,kontaktperson,språk,ankomstväg,behov från\n"
        "A,vuxen,Amal,1985,Åsa Öberg,ar,anvisning,2026-12-20\nA,barn,Sara,2015,,,,\n"
        "B,vuxen,Omar,1970,Omar Said,ar,anvisning,2026-12-20\n").encode()


def _upload(client, payload: bytes, **extra):
    return client.post("/families/import", data={"file": (io.BytesIO(payload), "f.csv"), **extra},
                       content_type="multipart/form-data")


def test_importing_the_same_file_twice_warns_and_asks_to_confirm(client, login_as, db):
    login_as("caseworker")
    english(client)
    assert _upload(client, FILE).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Family)) == 2
    resp = _upload(client, FILE)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "may already be registered" in html
    assert 'data-duplicate="A"' in html and 'data-duplicate="B"' in html and 'name="allow_duplicates"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Family)) == 2
    # Confirmed: imported anyway.
    assert _upload(client, FILE, allow_duplicates="y").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Family)) == 4


def test_other_birth_years_are_not_duplicates(app, db):
    assert imports.import_families(FILE).ok
    db.session.commit()
    other = FILE.replace(b"A,barn,Sara,2015", b"A,barn,Sara,2016").replace(b"Omar Said", b"Omar Other")
    result = imports.import_families(other)
    assert result.ok and result.created == 2


def test_an_unplanned_visit_can_be_recorded(client, login_as, db, monkeypatch):
    start = dt.date(2025, 1, 31)
    p = pf.placement(pf.family(), pf.host(), start)
    db.session.commit()
    pf.freeze(monkeypatch, dt.date(2025, 3, 20))
    login_as("coordinator")
    english(client)
    page = client.get(f"/placements/{p.id}").get_data(as_text=True)
    assert 'value="unplanned"' in page and "A visit that was not planned" in page
    resp = client.post(f"/placements/{p.id}/follow-ups",
                       data={"visit-planned_on": "unplanned", "visit-done_on": "2025-03-15",
                             "visit-notes": "Called by"})
    assert resp.status_code == 302
    db.session.refresh(p)
    done = [(v.planned_on, v.done_on) for v in p.follow_ups if v.done_on]
    assert done == [(dt.date(2025, 3, 15), dt.date(2025, 3, 15))]
    # The plan before the visit is kept: the missed planned visits are still overdue.
    overdue = [v.planned_on for v in psvc.visits(p, dt.date(2025, 3, 20)) if v.overdue]
    assert overdue == [dt.date(2025, 2, 7), dt.date(2025, 2, 28)]
