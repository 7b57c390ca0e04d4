"""Family pages: form with member rows (no JavaScript), dossier rules, health notes, list, status, audit."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from ebo.models import AuditEvent, Family, FamilyMember, HealthNote, School
from ebo.services import families as svc
from tests.conftest import count


def english(client):
    client.post("/language", data={"lang": "en", "next": "/"})


@pytest.fixture
def school(db):
    s = School(code="12345678", name="Ängsskolan", lat=59.3, lon=18.0)
    db.session.add(s)
    db.session.commit()
    return s


def form_data(**over):
    data = {
        "contact_name": "Amal Hassan", "contact_phone": "070-1234567", "contact_email": "",
        "dossier_number": "1234-5678", "route": "anvisning", "needed_from": "2026-03-01",
        "languages": ["ar", "sv"], "needs_step_free": "y", "notes": "",
        "health_note": "Diabetes, needs a fridge.",
        "members-0-kind": "adult", "members-0-first_name": "Amal", "members-0-birth_year": "1985",
        "members-0-school": "",
        "members-1-kind": "child", "members-1-first_name": "Sara", "members-1-birth_year": "2015",
        "members-1-school": "",
        "members-2-kind": "", "members-2-first_name": "", "members-2-birth_year": "", "members-2-school": "",
        "submit": "Save",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def make_family(db, name="Anna Andersson", dossier=None, status="waiting", children=0, needed=date(2026, 5, 1),
                route="anvisning"):
    members = [svc.MemberData("adult", "A", 1980)] + [svc.MemberData("child", "C", 2015)] * children
    f = svc.create_family(svc.FamilyData(contact_name=name, needed_from=needed, dossier_number=dossier, route=route,
                                         members=members))
    f.status = status
    db.session.commit()
    return f


def test_new_form_shows_member_rows_and_schools(client, login_as, school):
    login_as("caseworker")
    resp = client.get("/families/new")
    assert resp.status_code == 200
    html = resp.data.decode()
    assert len(re.findall(r'name="members-\d+-kind"', html)) == 4
    assert "Ängsskolan (12345678)" in html
    assert 'name="health_note"' in html


def test_register_family_with_school_and_health_note(client, login_as, school):
    user = login_as("caseworker")
    resp = client.post("/families/new", data=form_data(**{"members-1-school": str(school.id)}))
    assert resp.status_code == 302, resp.data.decode()[:2000]
    f = svc.db.session.scalar(sa.select(Family))
    assert f.contact_name == "Amal Hassan" and f.dossier_number == "1234-5678" and f.created_by == user.id
    assert [m.kind for m in f.members] == ["adult", "child"]  # the blank row is ignored
    assert f.children[0].school_id == school.id and f.languages == ["ar", "sv"] and f.needs_step_free
    assert f.health_note.text == "Diabetes, needs a fridge."
    assert str(f.id) in resp.headers["Location"] and "Amal" not in resp.headers["Location"]
    actions = set(svc.db.session.scalars(sa.select(AuditEvent.action)))
    assert {"family_created", "health_note_added"} <= actions
    details = svc.db.session.scalars(sa.select(AuditEvent.details)).all()
    assert "Amal" not in repr(details) and "Diabetes" not in repr(details)


def test_add_row_button_adds_a_row_without_saving(client, login_as):
    login_as("caseworker")
    resp = client.post("/families/new", data=form_data(submit=None, add_row="Add"))
    assert resp.status_code == 200
    assert len(re.findall(r'name="members-\d+-kind"', resp.data.decode())) == 4
    assert count(Family) == 0


@pytest.mark.parametrize("over, field", [
    ({"dossier_number": "12-34-5"}, "dossier_number"),
    ({"dossier_number": "123"}, "dossier_number"),
    ({"dossier_number": "12345678901"}, "dossier_number"),
    ({"contact_name": ""}, "contact_name"),
    ({"needed_from": "not a date"}, "needed_from"),
    ({"route": "plane"}, "route"),
    ({"languages": ["xx"]}, "languages"),
    ({"members-1-birth_year": ""}, "members-1-birth_year"),
    ({"members-1-birth_year": "1700"}, "members-1-birth_year"),
    ({"members-0-school": "00000000-0000-0000-0000-000000000000"}, "members-0-school"),
])
def test_form_errors_name_the_field(client, login_as, over, field):
    login_as("caseworker")
    english(client)
    resp = client.post("/families/new", data=form_data(**over))
    assert resp.status_code == 200
    assert f'href="#{field}"' in resp.data.decode()
    assert count(Family) == 0


def test_family_without_adult_is_refused(client, login_as):
    login_as("caseworker")
    english(client)
    resp = client.post("/families/new", data=form_data(**{"members-0-kind": "child", "members-0-birth_year": "2016"}))
    assert resp.status_code == 200 and b"at least one adult" in resp.data
    assert count(Family) == 0 and count(FamilyMember) == 0


def test_duplicate_dossier_is_refused_hyphen_or_not(client, login_as, db):
    make_family(db, dossier="12345678")
    login_as("caseworker")
    english(client)
    resp = client.post("/families/new", data=form_data(dossier_number="1234-5678"))
    assert resp.status_code == 200 and b"already has this dossier number" in resp.data
    assert count(Family) == 1


def test_edit_keeps_own_dossier_and_replaces_members(client, login_as, db):
    f = make_family(db, dossier="1234-5678", children=1)
    login_as("caseworker")
    resp = client.get(f"/families/{f.id}/edit")
    assert resp.status_code == 200 and b'value="1234-5678"' in resp.data
    resp = client.post(f"/families/{f.id}/edit", data=form_data(health_note=""))
    assert resp.status_code == 302
    db.session.expire_all()
    f = svc.get_family(f.id)
    assert f.contact_name == "Amal Hassan" and len(f.members) == 2 and f.health_note is None


def test_health_note_removed_when_cleared(client, login_as, db):
    login_as("caseworker")
    client.post("/families/new", data=form_data())
    f = db.session.scalar(sa.select(Family))
    assert count(HealthNote) == 1
    client.post(f"/families/{f.id}/edit", data=form_data(health_note="  "))
    assert count(HealthNote) == 0


def test_detail_logs_every_view_and_shows_health_to_caseworkers_only(client, login_as, db, make_user):
    from tests.conftest import login

    f = make_family(db)
    svc.set_health_note(f, "Asthma")
    db.session.commit()
    cw = login_as("caseworker")
    resp = client.get(f"/families/{f.id}")
    assert resp.status_code == 200 and b"Asthma" in resp.data
    client.get(f"/families/{f.id}/edit")
    admin = make_user("admin")
    client.post("/logout")
    login(client, admin)
    resp = client.get(f"/families/{f.id}")
    assert resp.status_code == 200 and b"Asthma" not in resp.data
    views = db.session.execute(sa.select(AuditEvent.actor_id, AuditEvent.details).where(
        AuditEvent.action == "view_family", AuditEvent.object_id == str(f.id)).order_by(AuditEvent.id)).all()
    assert [(a, d["page"]) for a, d in views] == [(cw.id, "detail"), (cw.id, "edit"), (admin.id, "detail")]
    assert client.get(f"/families/{f.id}/edit").status_code == 403
    assert client.get("/families/new").status_code == 403


@pytest.mark.parametrize("role", ["host", "coordinator"])
def test_hosts_and_coordinators_never_reach_family_pages(client, login_as, db, role):
    f = make_family(db)
    login_as(role)
    for url in ("/families/", f"/families/{f.id}", f"/families/{f.id}/edit", "/families/new", "/families/import"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/families/{f.id}/status", data={"status": "placed"}).status_code == 403
    assert count(AuditEvent) >= 1
    assert not db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "view_family"))


def test_unknown_family_is_404(client, login_as):
    login_as("caseworker")
    assert client.get("/families/00000000-0000-0000-0000-000000000000").status_code == 404


def test_status_change(client, login_as, db):
    f = make_family(db)
    login_as("caseworker")
    resp = client.post(f"/families/{f.id}/status", data={"status": "proposed"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert svc.get_family(f.id).status == "proposed"
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "family_status"))
    assert ev.details == {"from": "waiting", "to": "proposed"}
    client.post(f"/families/{f.id}/status", data={"status": "nonsense"})
    db.session.expire_all()
    assert svc.get_family(f.id).status == "proposed"


def test_list_search_keeps_names_out_of_the_url(client, login_as, db):
    make_family(db, name="Amal Hassan", dossier="1111-2222")
    make_family(db, name="Olena Kovalenko", children=2, status="placed", needed=date(2026, 9, 1))
    login_as("caseworker")
    resp = client.post("/families/", data={"q": "olena", "status": "placed"})
    assert resp.status_code == 302
    assert "olena" not in resp.headers["Location"].lower() and "status=placed" in resp.headers["Location"]
    html = client.get(resp.headers["Location"]).data.decode()
    assert "Olena Kovalenko" in html and "Amal Hassan" not in html
    client.post("/families/", data={"q": "1111-2222"})
    html = client.get("/families/").data.decode()
    assert "Amal Hassan" in html and "Olena" not in html
    client.post("/families/", data={"clear": "1"})
    html = client.get("/families/").data.decode()
    assert "Amal Hassan" in html and "Olena Kovalenko" in html


@pytest.mark.parametrize("args, names", [
    ("status=placed", {"B"}),
    ("route=resident", {"C"}),
    ("children=yes", {"B"}),
    ("children=no", {"A", "C"}),
    ("needed_before=2026-06-01", {"A", "C"}),
    ("status=bogus&route=bogus&children=bogus&needed_before=bogus", {"A", "B", "C"}),
])
def test_list_filters(client, login_as, db, args, names):
    make_family(db, name="A")
    make_family(db, name="B", children=1, status="placed", needed=date(2026, 9, 1))
    make_family(db, name="C", route="resident", needed=date(2026, 1, 1))
    login_as("caseworker")
    resp = client.get(f"/families/?{args}")
    assert resp.status_code == 200
    found = set(re.findall(r'/families/[0-9a-f-]{36}">([^<]+)</a>', resp.data.decode()))
    assert found == names


def test_list_paginates(client, login_as, db):
    for i in range(svc.PER_PAGE + 3):
        svc.create_family(svc.FamilyData(contact_name=f"F{i:03d}", needed_from=date(2026, 1, 1),
                                         members=[svc.MemberData("adult")]))
    db.session.commit()
    login_as("admin")
    english(client)
    first = client.get("/families/").data.decode()
    assert "Page 1 of 2" in first and first.count('href="/families/') >= svc.PER_PAGE
    last = client.get("/families/?page=2").data.decode()
    assert len(re.findall(r'/families/[0-9a-f-]{36}"', last)) == 3
    assert client.get("/families/?page=999").status_code == 200


FORM_FIELDS = ["contact_name", "contact_phone", "contact_email", "dossier_number", "route", "needed_from", "languages",
               "members-0-kind", "members-0-birth_year", "members-0-school", "members-1-kind", "members-1-birth_year",
               "members-25-kind", "health_note", "add_row"]


def test_generated_family_forms_never_500(client, login_as, db):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    login_as("caseworker")
    value = st.one_of(st.text(max_size=30), st.sampled_from(["adult", "child", "", "2015", "1234-5678", "anvisning",
                                                             "2026-01-01", "sv", "x" * 5000, "A\x00"]))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.dictionaries(st.sampled_from(FORM_FIELDS), value))
    def run(data):
        before = count(Family)
        resp = client.post("/families/new", data=data)
        assert resp.status_code in (200, 302, 400)  # 400: the app refuses NUL characters up front
        assert count(Family) - before == (1 if resp.status_code == 302 else 0)

    run()
