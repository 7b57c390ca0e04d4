"""The placement detail: the follow-up plan and the overdue rule on a frozen clock, access by role, audit."""

from __future__ import annotations

import datetime as dt

import pytest

from ebo.services import placements as svc
from tests.web import placement_factories as pf

START = dt.date(2025, 1, 31)


@pytest.fixture
def placed(db):
    """A family with a dossier number and a health note, placed with a host from START."""
    sch = pf.school()
    fam = pf.family(name="Family Delta", children=[(2014, sch)], dossier="UT-123456",
                    health="asthma, inhaler")
    p = pf.placement(fam, pf.host(), START, proposal_km=[0.8])
    db.session.commit()
    return p


def test_plan_dates_first_week_then_monthly():
    assert svc.plan_dates(START, dt.date(2025, 5, 1)) == [
        dt.date(2025, 2, 7), dt.date(2025, 2, 28), dt.date(2025, 3, 31), dt.date(2025, 4, 30)]
    assert svc.plan_dates(START, dt.date(2025, 2, 6)) == []


def test_overdue_rule_on_a_frozen_clock(db, placed):
    # the first-week visit is planned for 2025-02-07
    assert not svc.is_overdue(placed, dt.date(2025, 2, 7))  # due today: not yet overdue
    assert svc.is_overdue(placed, dt.date(2025, 2, 8))
    svc.record_visit(placed, dt.date(2025, 2, 7), dt.date(2025, 2, 8), "all well")
    assert not svc.is_overdue(placed, dt.date(2025, 2, 8))
    assert not svc.is_overdue(placed, dt.date(2025, 2, 28))
    assert svc.is_overdue(placed, dt.date(2025, 3, 1))  # the first monthly visit was missed
    overdue = [v.planned_on for v in svc.visits(placed, dt.date(2025, 4, 2)) if v.overdue]
    assert overdue == [dt.date(2025, 2, 28), dt.date(2025, 3, 31)]


def test_ended_placements_are_never_overdue(db):
    p = pf.placement(pf.family(), pf.unit(), START, end=dt.date(2025, 6, 1), reason="other")
    assert not svc.is_overdue(p, dt.date(2026, 1, 1))
    # An ended stay lists the visits made and plans no more (issue 14: planned visits are cleared).
    assert all(v.done_on is not None for v in svc.visits(p, dt.date(2026, 1, 1)))


def test_stored_planned_visits_count_too(db):
    p = pf.placement(pf.family(), pf.unit(), START)
    pf.visit(p, dt.date(2025, 2, 3))  # a visit planned by hand, off the schedule
    db.session.refresh(p)
    assert svc.is_overdue(p, dt.date(2025, 2, 4))
    assert svc.overdue_ids(dt.date(2025, 2, 4)) == {p.id}


def test_plan_follow_ups_is_idempotent(db, placed):
    assert svc.plan_follow_ups(placed, dt.date(2025, 3, 31)) == 3
    assert svc.plan_follow_ups(placed, dt.date(2025, 3, 31)) == 0


def test_detail_marks_overdue_in_words_and_logs_the_view(client, login_as, placed, monkeypatch):
    pf.freeze(monkeypatch, dt.date(2025, 3, 2))
    user = login_as("caseworker")
    pf.english(client)
    resp = client.get(f"/placements/{placed.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Follow-up overdue" in html and "badge-overdue" in html and "2 overdue." in html
    assert "UT-123456" in html and "asthma, inhaler" in html  # caseworkers see all
    assert "Centralskolan: 0.8 km" in html
    events = pf.audit_rows("view_family")
    assert len(events) == 1
    assert events[0].object_id == str(placed.family_id) and events[0].actor_id == user.id
    assert "Delta" not in str(events[0].details)


def test_coordinator_sees_the_follow_up_part_only(client, login_as, placed, monkeypatch):
    pf.freeze(monkeypatch, dt.date(2025, 3, 2))
    login_as("coordinator")
    pf.english(client)
    html = client.get(f"/placements/{placed.id}").get_data(as_text=True)
    assert "Follow-up visits" in html and "Record a visit" in html
    assert "UT-123456" not in html and "asthma" not in html and "caseworker note" not in html
    assert "End this placement" not in html and "Residence permit" not in html
    assert len(pf.audit_rows("view_family")) == 1


@pytest.mark.parametrize("role", ["host", "admin"])
def test_hosts_and_admins_do_not_see_the_detail(client, login_as, placed, role):
    login_as(role)
    assert client.get(f"/placements/{placed.id}").status_code == 403
    assert client.post(f"/placements/{placed.id}/follow-ups", data={}).status_code == 403
    assert pf.audit_rows("view_family") == []


def test_unknown_placement_is_404(client, login_as, db):
    import uuid

    login_as("caseworker")
    assert client.get(f"/placements/{uuid.uuid4()}").status_code == 404
    assert client.get("/placements/not-a-uuid").status_code == 404


def test_coordinator_records_a_visit(client, login_as, placed, monkeypatch, db):
    pf.freeze(monkeypatch, dt.date(2025, 3, 2))
    login_as("coordinator")
    resp = client.post(f"/placements/{placed.id}/follow-ups",
                       data={"visit-planned_on": "2025-02-07", "visit-done_on": "2025-02-09",
                             "visit-notes": "All well."})
    assert resp.status_code == 302
    db.session.refresh(placed)
    done = [(v.planned_on, v.done_on) for v in placed.follow_ups]
    assert done == [(dt.date(2025, 2, 7), dt.date(2025, 2, 9))]
    overdue = [v.planned_on for v in svc.visits(placed, dt.date(2025, 3, 2)) if v.overdue]
    assert overdue == [dt.date(2025, 2, 28)]
    assert len(pf.audit_rows("follow_up_done")) == 1
    # the same slot twice, a date in the future, a slot not on the plan: refused
    refused = (("2025-02-07", "2025-02-10"), ("2025-02-28", "2025-03-09"), ("2025-02-01", "2025-02-09"))
    for planned, done_on in refused:
        client.post(f"/placements/{placed.id}/follow-ups",
                    data={"visit-planned_on": planned, "visit-done_on": done_on})
    db.session.refresh(placed)
    assert len([v for v in placed.follow_ups if v.done_on]) == 1
    assert len(pf.audit_rows("follow_up_done")) == 1


def test_a_stored_plan_is_kept_and_the_schedule_extends_it(db):
    """Visits planned elsewhere (the confirm step, the demo) are not doubled by the schedule."""
    p = pf.placement(pf.family(), pf.unit(), START)
    pf.visit(p, dt.date(2025, 2, 14), dt.date(2025, 2, 14))
    pf.visit(p, dt.date(2025, 4, 1), dt.date(2025, 4, 2))
    db.session.refresh(p)
    planned = [v.planned_on for v in svc.visits(p, dt.date(2025, 5, 15))]
    assert planned == [dt.date(2025, 2, 14), dt.date(2025, 4, 1), dt.date(2025, 4, 30), dt.date(2025, 5, 31)]
    assert svc.overdue_ids(dt.date(2025, 5, 15)) == {p.id}  # the visit of 30 April was missed
    assert svc.plan_follow_ups(p, dt.date(2025, 6, 30)) == 3
    assert svc.plan_follow_ups(p, dt.date(2025, 6, 30)) == 0


def test_overdue_ids_agrees_with_the_listed_visits_on_random_schedules():
    """overdue_ids decides from the last stored visit and the schedule's next date; it must agree with
    is_overdue, which lists every visit, on any schedule (month ends, visits done or not, stored off-schedule)."""
    import random
    from types import SimpleNamespace

    from ebo.services import placements as svc

    rng = random.Random(13)
    for _ in range(4000):
        on = dt.date(2025, 1, 28) + dt.timedelta(days=rng.randint(0, 70))  # month ends, February
        start = on - dt.timedelta(days=rng.randint(0, 400))
        planned = sorted({start + dt.timedelta(days=rng.randint(0, 430)) for _ in range(rng.randint(0, 4))})
        visits = [SimpleNamespace(planned_on=d, done_on=(d if rng.random() < 0.7 else None), notes=None)
                  for d in planned]
        schedule = svc._Schedule(None, start, None, visits)
        assert svc._has_overdue(schedule, on) == svc.is_overdue(schedule, on), (start, planned, visits)
