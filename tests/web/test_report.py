"""The annual Plus 5 % report: renders, with today's figures, the latest drill and the change since the previous."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ebo.extensions import db as _db
from ebo.services import drills
from tests.conftest import login
from tests.factories import make_host, make_school, make_unit


def _world(make_user):
    from ebo.models import MunicipalitySettings

    s = MunicipalitySettings.get()
    s.name, s.population, s.households = "Sjöviks kommun", 600, 250
    make_school("Xskolan")
    for beds in (2, 4, 6):
        make_host(beds=beds)
    make_unit(beds=5)
    user = make_user("coordinator")
    _db.session.commit()
    return user


def test_report_without_drills_renders(db, client, login_as):
    login_as("caseworker")
    client.post("/language", data={"lang": "en"})
    html = client.get("/preparedness/report").get_data(as_text=True)
    assert "annual report" in html and "No drill has been run yet" in html
    assert "There is no earlier drill to compare with yet" in html


def test_report_shows_latest_drill_and_change_since_previous(db, client, make_user):
    from ebo.models import Drill

    user = _world(make_user)
    drills.start_drill(user, time_limit_s=10)
    _db.session.commit()  # the drill runs once the transaction commits
    first = _db.session.scalar(sa.select(Drill))
    first.created_at = first.created_at - dt.timedelta(days=365)  # last year's drill
    make_host(beds=5)  # one more host this year: 5 more free beds
    _db.session.commit()
    drills.start_drill(user, time_limit_s=10)
    _db.session.commit()  # the drill runs once the transaction commits
    latest = _db.session.scalars(sa.select(Drill).order_by(Drill.created_at.desc())).first()
    assert latest.summary["host_beds"] - first.summary["host_beds"] == 5

    login(client, user)
    client.post("/language", data={"lang": "en"})
    resp = client.get("/preparedness/report")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Plus 5 %: annual report – Sjöviks kommun" in html
    assert "Change since the previous drill" in html and "There is no earlier drill" not in html
    changes = html[html.index('class="compact prep-changes"'):]
    row = changes[changes.index("Free host beds</th>"):]
    row = row[:row.index("</tr>")]
    assert f">{first.summary['host_beds']}<" in row and f">{latest.summary['host_beds']}<" in row
    assert 'data-change="5"' in row and ">+5<" in row
    assert "What the gaps suggest" in html and 'class="prep-actions"' in html
    assert 'id="drill-history-title"' in html  # the drills over time
    assert html.count('role="img"') >= 6
    for personal in ("Anna", "Ekvägen", "0701234567", "Rana"):
        assert personal not in html


def test_report_refused_to_hosts(db, client, login_as):
    login_as("host")
    assert client.get("/preparedness/report").status_code == 403
