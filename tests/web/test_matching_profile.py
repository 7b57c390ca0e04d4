"""Issue 14: human references, the family's matching profile, and no dead ends between roles."""

from __future__ import annotations

import re

import sqlalchemy as sa

from ebo.extensions import db as _db
from tests.factories import make_family, make_host, make_school

REF = re.compile(r"\b[FV]-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b")


def _host(name: str, **kw):
    h = make_host(**kw)
    h.contact_name, h.postal_code = name, "745 31"
    return h


def _run_with_one_unplaced(client):
    """Two same-first-name hosts near one school; three families, one too far from any home to place."""
    from ebo.models import MatchingRun

    near_school = make_school(name="Sjöängsskolan")
    far_school = make_school(name="Bergaskolan", lat=58.0, lon=16.0)
    h1 = _host("Ingrid Alm", lat=59.301, lon=18.0, beds=4)
    h2 = _host("Ingrid Berg", lat=59.302, lon=18.0, beds=4)
    placed = make_family(adults=1, schools=[near_school], languages=("uk", "en"))
    unplaced = make_family(adults=1, schools=[far_school], dossier_number="4711-2026")
    _db.session.commit()
    resp = client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 1, "time_limit_s": 10})
    assert resp.status_code == 302
    run = _db.session.scalars(sa.select(MatchingRun).order_by(MatchingRun.created_at.desc())).first()
    assert run.state == "done", run.error
    return run, (h1, h2), placed, unplaced


def test_references_are_made_unique_and_readable(db):
    hosts = [_host("Ingrid Alm") for _ in range(2)]
    fams = [make_family() for _ in range(2)]
    _db.session.commit()
    refs = [h.reference for h in hosts] + [f.reference for f in fams]
    assert len(set(refs)) == 4
    assert all(REF.fullmatch(r) for r in refs)
    assert refs[0].startswith("V-") and refs[2].startswith("F-")


def test_reference_normalise_accepts_typed_forms():
    from ebo.references import normalise

    assert normalise("f 7k3m 9q2x") == "F-7K3M-9Q2X"
    assert normalise("V-7K3M-9Q2O") == "V-7K3M-9Q20"  # the letter O read as zero
    assert normalise("X-7K3M-9Q2X") == "" and normalise("F-7K3M") == ""


def test_review_rows_tell_hosts_apart_and_link_to_profile_and_host(client, login_as, db):
    login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    run, (h1, h2), placed, unplaced = _run_with_one_unplaced(client)
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    host = next(h for h in (h1, h2) if h.reference in html)
    assert f"Ingrid · 745 31 · {host.reference}" in html
    assert f'href="/vetting/hosts/{host.id}"' in html
    assert f'href="/families/{placed.id}/profile"' in html and placed.reference in html
    # The unplaced family: its reference, linked to its profile, not a cut-off id.
    assert f'href="/families/{unplaced.id}/profile"' in html and unplaced.reference in html
    assert f"Family {str(unplaced.id)[:8]}" not in html
    assert "Ukrainian, English" in html and "uk, en" not in html


def test_coordinator_reads_the_profile_without_personal_details(client, login_as, db):
    from ebo.models import AuditEvent

    user = login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    run, _hosts, placed, unplaced = _run_with_one_unplaced(client)
    unplaced.notes = "Secret caseworker note"
    _db.session.commit()
    resp = client.get(f"/families/{unplaced.id}/profile")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert unplaced.reference in html
    assert "Rana" not in html and "Familj" not in html and "4711-2026" not in html
    assert "Secret caseworker note" not in html and "0731234567" not in html
    assert "Bergaskolan" in html
    assert "The family got no place in this run." in html and "Why:" in html
    event = _db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_id == str(unplaced.id))).all()[-1]
    assert event.actor_id == user.id and event.details == {"page": "profile"}
    # The placed family's profile shows its proposal and links the run.
    html = client.get(f"/families/{placed.id}/profile").get_data(as_text=True)
    assert f'href="/runs/{run.id}"' in html and "proposed" in html


def test_caseworker_sees_latest_matching_on_the_family_page(client, login_as, db):
    login_as("coordinator")
    run, _hosts, _placed, unplaced = _run_with_one_unplaced(client)
    client.post("/logout")
    login_as("caseworker")
    client.post("/language", data={"lang": "en"})
    html = client.get(f"/families/{unplaced.id}").get_data(as_text=True)
    assert "Latest matching" in html and "The family got no place in this run." in html
    assert f'href="/families/{unplaced.id}/profile"' in html
    assert "/runs/" not in html  # no link the caseworker could not follow
    assert client.get(f"/families/{unplaced.id}/profile").status_code == 200


def test_profile_of_a_pseudonymised_family_is_404(client, login_as, db):
    from ebo.clock import now

    login_as("coordinator")
    fam = make_family(pseudonymised_at=now())
    _db.session.commit()
    assert client.get(f"/families/{fam.id}/profile").status_code == 404


def test_review_speaks_plainly(client, login_as, db):
    from ebo.ui import run_quality

    login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    run, *_rest = _run_with_one_unplaced(client)
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert "OPTIMAL" not in html and "FEASIBLE" not in html and "python -m matching" not in html
    assert "Quality of the distribution" in html
    client.post("/language", data={"lang": "sv"})
    with client.application.test_request_context(headers={"Accept-Language": "sv"}):
        from flask_babel import force_locale

        with force_locale("sv"):
            assert run_quality("OPTIMAL", 0.0) == "Bästa möjliga fördelning (bevisad)"
            assert run_quality("FEASIBLE", 0.0004) == "Nära bästa möjliga: högst 0,1\u00a0% från det bästa"
            assert run_quality("FEASIBLE", 0.0123) == "Nära bästa möjliga: högst 1,3\u00a0% från det bästa"


def test_audit_log_says_events_in_words(client, login_as, db):
    login_as("admin", name="Alva Admin")
    client.post("/language", data={"lang": "en"})
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "logged in" in html and "<td>login</td>" not in html
    assert "Alva Admin" in html


def test_a_newborn_is_age_0_and_an_unknown_birth_year_is_a_question_mark(client, login_as, db):
    """Ages on the review and the profile: 0 for a child born this year, "?" only without a birth year."""
    from ebo.models import FamilyMember

    login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    run, _hosts, placed, _unplaced = _run_with_one_unplaced(client)
    child = next(m for m in placed.members if m.kind == "child")
    child.birth_year = run.created_at.year
    placed.members.append(FamilyMember(kind="child", birth_year=None, position=20))
    _db.session.commit()
    review = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert "0, ?" in review
    profile = client.get(f"/families/{placed.id}/profile").get_data(as_text=True)
    assert "0, ?" in profile
