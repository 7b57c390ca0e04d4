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
    return re.findall(r"<tr>\s*<td[^>]*>[^<]*\d:\d\d:\d\d", resp.data.decode())


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
    assert bad.status_code == 200 and b"No family has this reference" in bad.data
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


def test_events_in_words_with_names_local_time_and_readable_details(client, make_user, db):
    """Who by name, the object by its reference, the details in words: no ids, JSON or "UTC"."""
    from ebo.services import audit

    f = _family(db)
    cw, admin = make_user("caseworker", name="Sara Nyström"), make_user("admin")
    login(client, cw)
    client.get(f"/families/{f.id}")
    client.post("/logout")
    audit.record("role_changed", "user", cw.id, {"from": "caseworker", "to": "coordinator"}, actor=admin)
    audit.record("login_failed", "user", cw.id, {"reason": "password"})
    db.session.commit()
    login(client, admin)
    html = client.get("/admin/audit").data.decode()  # Swedish, the default
    assert "Sara Nyström (handläggare)" in html
    assert "tittade på en familj" in html and f"familj {f.reference}" in html and "familjesidan" in html
    assert "från handläggare till samordnare" in html and "fel lösenord" in html
    shown = re.sub(r"<[^>]+>", " ", html.split("<tbody>")[1])  # the rows' text, without the links' addresses
    assert str(f.id)[:8] not in shown and str(cw.id)[:8] not in shown  # no ids
    assert "{" not in shown and "UTC" not in shown
    # Reference in the family filter finds the family's events.
    by_ref = client.get(f"/admin/audit?family={f.reference.lower()}")
    assert len(rows(by_ref)) == len(rows(client.get(f"/admin/audit?family={f.id}"))) >= 1
    assert f'value="{f.reference}"' in by_ref.data.decode()


def test_time_is_shown_in_stockholm_in_the_locale_format(app, make_user, db):
    from datetime import UTC, datetime

    from flask_babel import force_locale

    from ebo.models import AuditEvent
    from ebo.services import auditlog
    from ebo.ui import format_datetime_safe

    event = AuditEvent(action="login", at=datetime(2026, 7, 1, 10, 5, 9, tzinfo=UTC), details={})
    with app.test_request_context(), force_locale("sv"):
        assert format_datetime_safe(event.at, seconds=True) == "1 juli 2026 12:05:09"  # summer time
        assert format_datetime_safe(datetime(2026, 12, 1, 10, 5, tzinfo=UTC)) == "1 dec. 2026 11:05"
        line = auditlog.in_words([event], users={})[0]
        assert line.what == "loggade in" and line.who == "systemet" and line.details == []


def test_every_audit_action_in_the_code_has_words():
    """Each action name the code records (literal, either side of a conditional, or built) has a label."""
    from pathlib import Path

    from ebo.ui import ACTION_LABELS

    root = Path(__file__).resolve().parents[2] / "ebo"
    found: set[str] = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"audit\.record\(\s*([^,]+),", text):
            found.update(re.findall(r'"([a-z_]+)"', re.sub(r'[!=]= "[a-z_]+"', "", call.group(1))))
        found.update(re.findall(r'_change\(card, CardStatus\.\w+, "([a-z_]+)"', text))
        found.update(re.findall(r'event="([a-z_]+)"', text))
    found |= {"host_paused", "host_withdrawn", "password_changed"}  # built from the state, or a default argument
    missing = sorted(a for a in found if a not in ACTION_LABELS)
    assert len(found) > 60 and missing == []
