"""Municipality settings for admins."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ebo.models import AuditEvent, MunicipalitySettings


def settings_form(**over):
    data = {"name": "Storstad", "population": "100000", "households": "45000", "target_percent": "5",
            "default_max_school_km": "4.5", "retention_months": "24", "reconfirm_months": "12"}
    data.update(over)
    return data


def test_admin_edits_settings(client, login_as, db):
    admin = login_as("admin")
    assert client.get("/admin/settings").status_code == 200
    assert client.post("/admin/settings", data=settings_form()).status_code == 302
    row = MunicipalitySettings.get()
    assert (row.name, row.population, row.households, row.target_percent, row.default_max_school_km) == (
        "Storstad", 100000, 45000, 5.0, 4.5)
    assert row.target_persons == 5000 and row.updated_by == admin.id
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "settings_changed"))
    assert "population" in ev.details["fields"]
    client.post("/language", data={"lang": "en", "next": "/"})
    assert b"5,000 persons" in client.get("/admin/settings").data


@pytest.mark.parametrize("over, field", [({"population": "-1"}, "population"),
                                         ({"target_percent": "0"}, "target_percent"),
                                         ({"target_percent": "101"}, "target_percent"), ({"name": ""}, "name"),
                                         ({"retention_months": "0"}, "retention_months"),
                                         ({"households": "many"}, "households")])
def test_settings_validation(client, login_as, db, over, field):
    login_as("admin")
    resp = client.post("/admin/settings", data=settings_form(**over))
    assert resp.status_code == 200 and f'href="#{field}"' in resp.data.decode()


@pytest.mark.parametrize("role", ["host", "coordinator", "caseworker"])
def test_only_admins(client, login_as, role):
    login_as(role)
    assert client.get("/admin/settings").status_code == 403
    assert client.post("/admin/settings", data=settings_form()).status_code == 403
