"""Issue 14: home pages are to-do lists whose counts link to the filtered page."""

from __future__ import annotations

import datetime as dt
import re

from ebo.clock import today
from ebo.extensions import db as _db
from tests.factories import make_family, make_host


def _todo(html: str) -> dict[str, tuple[str, int]]:
    section = html.split('id="todo-heading"', 1)[1].split("</section>", 1)[0]
    return {label.strip(): (href.replace("&amp;", "&"), int(n))
            for href, label, n in re.findall(r'<a href="([^"]+)">([^<:]+): <strong>(\d+)</strong>', section)}


def test_coordinator_home_lists_what_waits(client, login_as, db):
    make_host(vetting="registered")
    make_host(vetting="registered")
    make_host(vetting="registered", state="withdrawn")  # withdrawn: nothing to do
    make_host(vetting="visited")
    make_family(needed_from=today() - dt.timedelta(days=20))
    make_family(needed_from=today() - dt.timedelta(days=3))
    _db.session.commit()
    login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    todo = _todo(client.get("/home").get_data(as_text=True))
    assert todo["Hosts to visit"] == ("/vetting/?status=registered", 2)
    assert todo["Visited hosts waiting for a decision"] == ("/vetting/?status=visited", 1)
    assert todo["Families waiting longer than 14 days"] == ("/families/waiting", 1)
    assert "Accepted proposals to confirm" not in todo  # nothing waits: not listed
    # The linked page shows exactly the counted hosts.
    html = client.get("/vetting/?status=registered").get_data(as_text=True)
    assert html.count('href="/vetting/hosts/') == 2


def test_caseworker_home_links_to_the_filtered_family_list(client, login_as, db):
    old = make_family(needed_from=today() - dt.timedelta(days=20))
    new = make_family(needed_from=today() - dt.timedelta(days=3))
    make_family(status="placed")
    _db.session.commit()
    login_as("caseworker")
    client.post("/language", data={"lang": "en"})
    todo = _todo(client.get("/home").get_data(as_text=True))
    assert todo["Families waiting"] == ("/families/?status=waiting", 2)
    url, n = todo["Families waiting longer than 14 days"]
    assert n == 1 and "needed_before=" in url
    listed = client.get(url).get_data(as_text=True)
    assert f'href="/families/{old.id}"' in listed and f'href="/families/{new.id}"' not in listed
    assert "Follow-up visits overdue" not in todo


def test_empty_todo_says_so(client, login_as, db):
    login_as("admin")
    client.post("/language", data={"lang": "en"})
    assert "Nothing is waiting for you right now." in client.get("/home").get_data(as_text=True)


def test_long_waiting_families_list_for_coordinators(client, login_as, db):
    """The to-do's "waiting longer than 14 days" leads to those families' matching profiles, audited,
    with no names, dossier numbers or health notes."""
    import sqlalchemy as sa

    from ebo.models import AuditEvent, FamilyMember, HealthNote

    old = make_family(adults=2, needed_from=today() - dt.timedelta(days=20), dossier_number="DN-998877",
                      languages=("ar", "fa"), needs_step_free=True)
    old.contact_name = "Rana Hemligsson"
    old.members += [FamilyMember(kind="child", birth_year=today().year, position=10),  # a newborn: age 0
                    FamilyMember(kind="child", birth_year=None, position=11)]
    _db.session.add(HealthNote(family_id=old.id, text="Diabetes typ 1"))
    recent = make_family(needed_from=today() - dt.timedelta(days=3))
    placed = make_family(needed_from=today() - dt.timedelta(days=40), status="placed")
    _db.session.commit()
    user = login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    resp = client.get("/families/waiting")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert old.reference in html and recent.reference not in html and placed.reference not in html
    assert f'href="/families/{old.id}/profile"' in html
    assert "20 days" in html and "2 adults" in html and "Arabic" in html and "step-free" in html
    assert "2 children (ages 0, ?)" in html
    for secret in ("Hemligsson", "DN-998877", "Diabetes", "Rana"):
        assert secret not in html
    events = _db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "view_family")).all()
    assert [(e.object_id, e.actor_id, e.details) for e in events] == [(str(old.id), user.id, {"page": "waiting"})]
    # Other thresholds, and bad input falls back to 14 days.
    assert recent.reference in client.get("/families/waiting?days=2").get_data(as_text=True)
    assert client.get("/families/waiting?days=abc").status_code == 200


def test_long_waiting_list_is_for_staff_only(client, login_as, db):
    login_as("host")
    assert client.get("/families/waiting").status_code == 403


def test_home_counts_are_kept_and_a_change_committed_here_shows_at_once(client, login_as, app, db, monkeypatch):
    """Surge scale: the homes' whole-municipality counts come from the figures cache (the overdue-visit count
    is worked out once, not on every view), and a commit in this process writing what they count drops them."""
    from ebo.models import Placement
    from ebo.services import figures_cache, todo

    monkeypatch.setitem(app.config, "FIGURES_CACHE_SECONDS", 60)
    figures_cache.invalidate()
    host = make_host(vetting="registered")
    fam = make_family(status="placed")
    _db.session.add(Placement(family_id=fam.id, host_id=host.id, persons=1,
                              start_date=today() - dt.timedelta(days=40)))  # its first visits are past
    _db.session.commit()
    calls = []
    real = todo.overdue_ids
    monkeypatch.setattr(todo, "overdue_ids", lambda *a: calls.append(1) or real(*a))
    login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    first = _todo(client.get("/home").get_data(as_text=True))
    assert first["Follow-up visits overdue"] == ("/placements/?overdue=1", 1)
    assert first["Hosts to visit"] == ("/vetting/?status=registered", 1)
    assert _todo(client.get("/home").get_data(as_text=True)) == first and len(calls) == 1  # kept

    make_host(vetting="registered")
    _db.session.commit()
    again = _todo(client.get("/home").get_data(as_text=True))
    assert again["Hosts to visit"] == ("/vetting/?status=registered", 2) and len(calls) == 2


def test_coordinator_home_counts_a_proposal_it_expires_although_the_counts_were_kept(client, login_as, app, db,
                                                                                     monkeypatch):
    """Another process made a sent proposal overdue while this one kept the counts: opening the home expires
    it and lists it as lapsed on the same view."""
    import sqlalchemy as sa

    from ebo.clock import now
    from ebo.models import MatchingRun, Proposal
    from ebo.services import figures_cache

    monkeypatch.setitem(app.config, "FIGURES_CACHE_SECONDS", 60)
    figures_cache.invalidate()
    host, fam = make_host(), make_family(status="proposed")
    run = MatchingRun(kind="match", state="done", params={})
    _db.session.add(run)
    _db.session.flush()
    prop = Proposal(run_id=run.id, family_id=fam.id, host_id=host.id, state="sent", sent_at=now(),
                    child_km=[], shared_language=True)
    _db.session.add(prop)
    _db.session.commit()
    login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    assert "Proposals that lapsed without the host's answer (last 14 days)" not in _todo(
        client.get("/home").get_data(as_text=True))
    with _db.engine.begin() as conn:  # not through this process's session: the kept counts stay
        conn.execute(sa.update(Proposal.__table__).where(Proposal.__table__.c.id == prop.id)
                     .values(sent_at=now() - dt.timedelta(days=10)))
    todo_ = _todo(client.get("/home").get_data(as_text=True))
    assert todo_["Proposals that lapsed without the host's answer (last 14 days)"] == (
        f"/runs/{run.id}?state=expired", 1)
    _db.session.expire_all()
    assert _db.session.get(Proposal, prop.id).state == "expired"
