"""The audit log page: admins search by family and by user; views of family records are there."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from ebo.services import families as svc
from tests.conftest import login


def _family(db, name="Anna"):
    f = svc.create_family(svc.FamilyData(contact_name=name, needed_from=date(2026, 1, 1),
                                         members=[svc.MemberData("adult")]))
    db.session.commit()
    return f


def rows(resp):
    return re.findall(r"<tr>\s*<td>\d{4}-\d\d-\d\d", resp.data.decode())


def test_search_by_family_and_by_user(client, make_user, db):
    f1, f2 = _family(db), _family(db, "Bo")
    cw1, cw2, admin = make_user("caseworker"), make_user("caseworker"), make_user("admin")
    login(client, cw1)
    client.get(f"/families/{f1.id}")
    client.get(f"/families/{f2.id}")
    client.post("/logout")
    login(client, cw2)
    client.get(f"/families/{f1.id}")
    client.post("/logout")
    login(client, admin)
    client.post("/language", data={"lang": "en", "next": "/"})
    by_family = client.get(f"/admin/audit?family={f1.id}&action=view_family")
    assert by_family.status_code == 200 and len(rows(by_family)) == 2
    html = by_family.data.decode()
    assert f"user={cw1.id}" in html and f"user={cw2.id}" in html and "Anna" not in html
    by_user = client.get(f"/admin/audit?user={cw1.id}&action=view_family")
    assert len(rows(by_user)) == 2
    both = client.get(f"/admin/audit?user={cw2.id}&family={f1.id}")
    assert len(rows(both)) == 1
    assert len(rows(client.get(f"/admin/audit?family={uuid.uuid4()}"))) == 0
    bad = client.get("/admin/audit?family=Anna")
    assert bad.status_code == 200 and b"This is not a family id" in bad.data
    assert client.get("/admin/audit?page=99").status_code == 200


def test_audit_paginates(client, make_user, db):
    from ebo.services import audit

    for _ in range(60):
        audit.record("test_event", "thing", uuid.uuid4())
    db.session.commit()
    login(client, make_user("admin"))
    client.post("/language", data={"lang": "en", "next": "/"})
    resp = client.get("/admin/audit?action=test_event")
    assert b"Page 1 of 2" in resp.data and len(rows(resp)) == 50


@pytest.mark.parametrize("role", ["host", "coordinator", "caseworker"])
def test_only_admins(client, login_as, role):
    login_as(role)
    assert client.get("/admin/audit").status_code == 403
