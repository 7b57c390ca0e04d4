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
