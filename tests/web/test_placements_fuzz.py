"""Generated input on the placements pages and forms never gives a 500 (docs/security.md S14)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web import placement_factories as pf

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
text = st.one_of(st.text(max_size=40), st.sampled_from(["", "2025-02-07", "9999-12-31", "0001-01-01", "-1",
                                                        "moved_on", "granted", "\x00", "=1+1", "y"]))
KEYS = st.sampled_from(["status", "school", "area", "route", "overdue", "sort", "dir", "page", "x"])


@pytest.fixture
def placed(db):
    p = pf.placement(pf.family(children=[(2015, pf.school())]), pf.host(), dt.date(2025, 1, 31))
    db.session.commit()
    return p


@FUZZ
@given(query=st.dictionaries(KEYS, text, max_size=5))
def test_list_query_strings(client, login_as, placed, query):
    if not getattr(client, "_fuzz_user", None):
        client._fuzz_user = login_as("caseworker")
    for path in ("/placements/", "/placements/overview", "/placements/export"):
        assert client.get(path, query_string=query).status_code in (200, 400)  # 400: NUL refused up front


@FUZZ
@given(form=st.fixed_dictionaries({}, optional={
    "end_date": text, "reason": text, "still_needs_housing": text, "note": text,
    "visit-planned_on": text, "visit-done_on": text, "visit-notes": text,
    "decision": text, "decided_on": text, "your_password": text, "status": text, "sort": text}))
def test_forms(client, login_as, placed, form):
    if not getattr(client, "_fuzz_user", None):
        client._fuzz_user = login_as("caseworker")
    for path in (f"/placements/{placed.id}/follow-ups", f"/placements/{placed.id}/permit", "/placements/export",
                 f"/placements/{placed.id}/end"):
        assert client.post(path, data=form).status_code < 500, (path, form)
