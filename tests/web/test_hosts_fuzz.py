"""Generated form input never gives a 500 on the host and vetting forms (docs/security.md S14)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebo import clock
from tests.conftest import PASSWORD, login
from tests.web.test_hosts_proposals import make_proposal
from tests.web.test_hosts_register import make_host, registration_data

FIELDS = list(registration_data()) + ["role", "vetting_status", "form_token", "csrf_token"]
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
nasty = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "20",
        "21",
        "99999999999999999999",
        "1e9",
        "NaN",
        "2026-02-30",
        "9999-12-31",
        "0000-01-01",
        "+46",
        "<script>x</script>",
        "' OR 1=1 --",
        "\x00",
        "ä" * 5000,
    ]
)
value = st.one_of(text, nasty, st.lists(st.one_of(text, nasty), max_size=3))
form = st.dictionaries(st.sampled_from(FIELDS), value, max_size=len(FIELDS))
SETTINGS = settings(
    max_examples=int(os.environ.get("EBO_FUZZ_EXAMPLES", "40")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(data=form)
def test_registration_never_500(client, data):
    resp = client.post("/host/register", data={**registration_data(), **data})
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]


def test_logged_in_forms_never_500(app, db, client, make_user):
    h = make_host(db, client)
    p = make_proposal(db, h)
    staff = app.test_client()
    login(staff, make_user("coordinator"), PASSWORD)

    @SETTINGS
    @given(
        data=form,
        answer=st.dictionaries(
            st.sampled_from(["answer", "reason", "export-password", "erase-password"]), value, max_size=4
        ),
        visit=st.dictionaries(
            st.sampled_from(
                [
                    "visit-visited_on",
                    "visit-visited_by",
                    "visit-outcome",
                    "visit-notes",
                    "decision-decision",
                    "decision-reason",
                ]
            ),
            value,
            max_size=6,
        ),
    )
    def run(data, answer, visit):
        assert client.post("/host/offer", data={**registration_data(), **data}).status_code < 500
        assert client.post(f"/host/proposals/{p.id}", data=answer).status_code < 500
        assert client.post("/host/my-data/export", data=answer).status_code < 500
        erase = {k: v for k, v in answer.items() if k != "erase-password"}
        assert client.post("/host/my-data/erase", data=erase).status_code < 500
        assert staff.post(f"/vetting/hosts/{h.id}/visits", data=visit).status_code < 500
        assert staff.post(f"/vetting/hosts/{h.id}/decision", data=visit).status_code < 500
        assert (
            staff.get(
                "/vetting/",
                query_string={
                    "status": str(visit.get("visit-notes", ""))[:50],
                    "page": str(visit.get("visit-outcome", ""))[:20],
                },
            ).status_code
            < 500
        )

    run()
    assert clock.today()
