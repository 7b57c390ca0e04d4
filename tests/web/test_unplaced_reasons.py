"""The review page says why a family got no place in the coordinator's language (Swedish by default)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import g, has_app_context

from ebo.extensions import db as _db
from tests.factories import make_family, make_host, make_school


def _fresh():
    """Forget the locale Flask-Babel cached on `g` (the test keeps one app context for every request)."""
    if has_app_context():
        g.pop("_flask_babel", None)


def _page(client, path: str) -> str:
    _fresh()
    resp = client.get(path)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _run():
    from ebo.models import MatchingRun

    return _db.session.scalars(sa.select(MatchingRun).order_by(MatchingRun.created_at.desc())).first()


def _world_and_run(client):
    school = make_school(name="Bergaskolan")
    make_host(lat=59.9, lon=18.9, beds=4)  # far from the school
    make_family(adults=5, schools=[school, None])  # 7 persons: no host has 7 beds, and there are no units
    make_family(adults=2, schools=[school])  # 3 persons: the one host is too far from the school
    _db.session.commit()
    _fresh()
    resp = client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 1, "time_limit_s": 10})
    assert resp.status_code == 302
    run = _run()
    assert run.state == "done", run.error
    return run


def test_reasons_are_swedish_by_default_and_english_on_request(client, login_as):
    login_as("coordinator")
    run = _world_and_run(client)

    sv = _page(client, f"/runs/{run.id}")
    assert "ingen värd har 7 sängplatser" in sv
    assert "det finns inga boendeenheter (kommunens boende)" in sv
    assert "bland 1 värd med 3 sängplatser finns ingen inom 5 km från Bergaskolan" in sv
    assert "no host has 7 beds" not in sv

    _fresh()
    client.post("/language", data={"lang": "en"})
    en = _page(client, f"/runs/{run.id}")
    assert "no host has 7 beds" in en
    assert "there are no municipal units" in en
    assert "of the 1 host with 3 beds, none is within 5 km of Bergaskolan" in en
    assert "sängplatser" not in en


def test_stored_english_is_the_fallback(client, login_as, monkeypatch):
    """A reason the worker cannot work out is stored as the solution's sentence and shown with school names."""
    from ebo.services import unplaced

    def broken(*args, **kwargs):
        raise ValueError("an odd instance")

    monkeypatch.setattr(unplaced, "explain_details", broken)
    login_as("coordinator")
    run = _world_and_run(client)
    sv = _page(client, f"/runs/{run.id}")
    assert "no host has 7 beds" in sv
    assert "of Bergaskolan" in sv


def test_reasons_are_stored_when_the_run_ends_and_not_worked_out_again(client, login_as, monkeypatch):
    """The worker stores structured reasons once; the page reads them without the run's files."""
    from ebo.models import RunUnplaced
    from ebo.services import unplaced

    login_as("coordinator")
    run = _world_and_run(client)
    rows = _db.session.scalars(sa.select(RunUnplaced).where(RunUnplaced.run_id == run.id)
                               .order_by(RunUnplaced.position)).all()
    assert len(rows) == 2 and all(r.reasons and "rule" in r.reasons[0] for r in rows)
    assert {r.ref for r in rows} == {str(r.family_id)[:8] for r in rows}

    def never(*args, **kwargs):
        raise AssertionError("a page worked the reasons out again")

    monkeypatch.setattr(unplaced, "explain_details", never)
    run.instance_json = json.dumps({"format": "something else"})
    _db.session.commit()
    sv = _page(client, f"/runs/{run.id}")
    assert "ingen värd har 7 sängplatser" in sv
    assert "inom 5 km från Bergaskolan" in sv


def test_every_reason_has_words_in_both_languages(app):
    """Every rule explain_details can name is put into words, in Swedish and in English, without error."""
    import datetime as dt

    from flask_babel import force_locale

    from ebo.services.unplaced import reason_words
    from matching.explain import explain_details
    from matching.schema import Child, Family, Forbidden, Host, Instance, Params, Placement, School, Solution, Unit

    d = dt.date(2026, 12, 1)

    def host(hid, beds, **kw):
        return Host(id=hid, beds=beds, lat=kw.pop("lat", 59.3), lon=18.0, languages=("sv",), **kw)

    def inst(hosts, fams, **kw):
        return Instance(date=d, params=Params(), schools=(School("S", 59.3, 18.0),), hosts=tuple(hosts),
                        families=tuple(fams), **kw)

    kid = (Child("S"),)
    cases = [
        (inst([], [Family("F", 2, d)]), {}),
        (inst([host("H", 4)], [Family("F", 7, d)]), {}),
        (inst([host("H", 4, accepts_children=False), host("G", 4)], [Family("F", 3, d, children=kid,
                                                                             needs_step_free=True)]), {}),
        (inst([host("H", 4, accepts_children=False)], [Family("F", 3, d, children=(Child(None),))]), {}),
        (inst([host("H", 4, has_pets=True)], [Family("F", 3, d, pet_allergy=True)]), {}),
        (inst([host("H", 4, smoking=True)], [Family("F", 3, d, needs_non_smoking=True)]), {}),
        (inst([host("H", 4, available_from=d + dt.timedelta(days=5))], [Family("F", 3, d)]), {}),
        (inst([host("H", 4, lat=59.6), host("G", 4, accepts_children=False)], [Family("F", 3, d, children=kid)]),
         {}),
        (inst([host("H", 4)], [Family("F", 3, d)], forbidden=(Forbidden("F", "H"),)), {}),
        (inst([host("H", 4)], [Family("F", 3, d), Family("G", 4, d)],
              units=(Unit("U", 59.3, 18.0, beds=2, step_free=True),)),
         Solution("OPTIMAL", 0, 0, 0, 0, placements=(Placement("G", host_id="H"),))),
        (inst([host("H", 4)], [Family("F", 3, d, needs_step_free=True)],
              units=(Unit("U", 59.3, 18.0, beds=9, step_free=False),)), Solution("OPTIMAL", 0, 0, 0, 0)),
        (inst([host("H", 4), host("G", 4)], [Family("F", 3, d)], units=(Unit("U", 59.3, 18.0, beds=9),)),
         Solution("OPTIMAL", 0, 0, 0, 0)),
    ]
    seen = set()
    with app.app_context():
        for i, sol in cases:
            for det in explain_details(i, sol, i.families[0]):
                seen.add(det["rule"])
                with force_locale("en"):
                    en = reason_words(det, {"S": "Bergaskolan"})
                with force_locale("sv"):
                    sv = reason_words(det, {"S": "Bergaskolan"})
                assert en and sv and en != sv, det
                # unit_beds says more than the matcher's sentence: the beds are those left after the run's proposals.
                if det["rule"] in ("capacity", "taken", "cost", "unit", "children", "step_free"):
                    assert en == det["text"], det
    assert seen >= {"capacity", "children", "step_free", "pets", "smoking", "availability", "school", "forbidden",
                    "taken", "cost", "unit", "unit_step_free", "unit_beds", "unit_cost"}


def test_unit_reason_and_move_page_count_a_units_beds_the_same_way(client, login_as):
    """The reason's "most left" and the Move page's unit line come from the same accounting: the beds the run's
    own proposals take are counted on both (they used to say "at most 0 free" next to "41 free beds")."""
    from ebo.models import Proposal, RunUnplaced
    from ebo.services import capacity
    from tests.factories import make_unit

    login_as("coordinator")
    unit = make_unit(beds=3, name="Björkgården")
    make_family(adults=2)
    make_family(adults=2)
    _db.session.commit()
    _fresh()
    client.post("/language", data={"lang": "en"})
    assert client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 1,
                                            "time_limit_s": 10}).status_code == 302
    run = _run()
    assert run.state == "done", run.error
    proposal = _db.session.scalar(sa.select(Proposal).where(Proposal.run_id == run.id))
    assert proposal.unit_id == unit.id
    stored = _db.session.scalar(sa.select(RunUnplaced).where(RunUnplaced.run_id == run.id))
    reason = next(d for d in stored.reasons if d.get("rule") == "unit_beds")
    room = capacity.room_in_run(run.id, units=[unit])[("u", unit.id)]
    assert (room.beds, room.free, room.left) == (3, 3, 1)
    assert reason["params"]["free"] == room.left  # the matcher and the accounting agree

    review = _page(client, f"/runs/{run.id}")
    assert "no municipal unit had 2 beds left after this run&#39;s proposals (most left: 1)" in review
    move = _page(client, f"/runs/{run.id}/proposals/{proposal.id}/move")
    assert "Unit: Björkgården (1 of 3 beds left after this run&#39;s proposals (3 free now))" in move
