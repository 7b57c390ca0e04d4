"""Issue 14: coordinators find every host, approved ones too, by search and filters."""

from __future__ import annotations

from ebo.extensions import db as _db
from tests.factories import make_host


def _host(name, email_part, postal, **kw):
    h = make_host(**kw)
    h.contact_name, h.postal_code = name, postal
    h.email = f"{email_part}-{h.email}"
    return h


def _names(client, url="/vetting/hosts"):
    html = client.get(url).get_data(as_text=True)
    return {n for n in ("Ingrid Alm", "Ingrid Berg", "Olle Ek", "Sara Lind") if n in html}


def test_hosts_list_search_and_filters(client, login_as, db):
    a = _host("Ingrid Alm", "alm", "745 31", beds=4, languages=("sv", "uk"))
    _host("Ingrid Berg", "berg", "745 32", beds=2, languages=("sv",), step_free=True)
    _host("Olle Ek", "ek", "123 45", beds=6, vetting="registered", has_pets=True)
    _host("Sara Lind", "lind", "123 46", beds=3, state="withdrawn", vetting="rejected")
    _db.session.commit()
    login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    assert _names(client) == {"Ingrid Alm", "Ingrid Berg", "Olle Ek", "Sara Lind"}  # every state
    assert _names(client, "/vetting/hosts?vetting=approved") == {"Ingrid Alm", "Ingrid Berg"}
    assert _names(client, "/vetting/hosts?state=withdrawn") == {"Sara Lind"}
    assert _names(client, "/vetting/hosts?area=745") == {"Ingrid Alm", "Ingrid Berg"}
    assert _names(client, "/vetting/hosts?beds=4") == {"Ingrid Alm", "Olle Ek"}
    assert _names(client, "/vetting/hosts?language=uk") == {"Ingrid Alm"}
    assert _names(client, "/vetting/hosts?step_free=1") == {"Ingrid Berg"}
    assert "Olle Ek" not in _names(client, "/vetting/hosts?no_pets=1")
    assert _names(client, "/vetting/hosts?beds=nonsense&vetting=bogus") == {"Ingrid Alm", "Ingrid Berg", "Olle Ek",
                                                                            "Sara Lind"}
    # The search text goes by POST into the session, never into the URL.
    resp = client.post("/vetting/hosts", data={"q": "ingrid", "vetting": "approved"})
    assert resp.status_code == 302 and "ingrid" not in resp.headers["Location"]
    assert "vetting=approved" in resp.headers["Location"]
    assert _names(client, resp.headers["Location"]) == {"Ingrid Alm", "Ingrid Berg"}
    for q, expected in (("berg-", {"Ingrid Berg"}), ("12345", {"Olle Ek"}), ("123 4", {"Olle Ek", "Sara Lind"}),
                        (a.reference.lower().replace("-", " "), {"Ingrid Alm"}),
                        ("V-1EYV-QGK2", set())):  # a reference's digits are not the start of a postal code
        client.post("/vetting/hosts", data={"q": q})
        assert _names(client) == expected, q
    client.post("/vetting/hosts", data={"clear": "1"})
    assert len(_names(client)) == 4


def test_hosts_list_is_for_coordinators_only(client, login_as, db):
    login_as("caseworker")
    assert client.get("/vetting/hosts").status_code == 403


def test_coordinator_sees_the_hosts_answer_about_another_family(client, login_as, db):
    """Asked after a stay, the host's answer (or that none came yet) reads in words on the list and the host page."""
    from ebo.models.types import utcnow
    from ebo.services import hosts

    asked = _host("Ingrid Alm", "alm", "745 31")
    said_yes = _host("Olle Ek", "ek", "123 45")
    said_no = _host("Sara Lind", "lind", "123 46")
    quiet = _host("Ingrid Berg", "berg", "745 32")
    for h in (asked, said_yes, said_no):
        h.another_family_asked_at = utcnow()
    _db.session.flush()
    hosts.answer_another_family(said_yes, True)
    hosts.answer_another_family(said_no, False)
    _db.session.commit()
    login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    html = client.get("/vetting/hosts").get_data(as_text=True)
    rows = {name: html.split(name, 1)[1].split("</tr>", 1)[0] for name in ("Ingrid Alm", "Olle Ek", "Sara Lind",
                                                                            "Ingrid Berg")}
    assert "whether they can take another family: no answer yet" in rows["Ingrid Alm"]
    assert "After a stay: can take another family" in rows["Olle Ek"]
    assert "cannot take another family for now, so the offer is paused" in rows["Sara Lind"]
    assert "another-family" not in rows["Ingrid Berg"]
    page = client.get(f"/vetting/hosts/{said_yes.id}").get_data(as_text=True)
    assert "After a stay: can take another family" in page.split('data-field="another-family">', 1)[1][:200]
    page = client.get(f"/vetting/hosts/{quiet.id}").get_data(as_text=True)
    assert "not asked yet" in page.split('data-field="another-family">', 1)[1][:60]


def test_hosts_search_counts_only_up_to_a_cap(client, login_as, db, monkeypatch):
    """A search matching more hosts than the cap says "more than" and still pages on; below it, the exact count."""
    from ebo.services import host_list

    monkeypatch.setattr(host_list, "COUNT_CAP", 3)
    monkeypatch.setattr(host_list, "PER_PAGE", 2)
    for i in range(7):
        _host(f"Anna Holm {i}", f"holm{i}", "745 31")
    _host("Olle Ek", "ek", "123 45")
    _db.session.commit()
    login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    client.post("/vetting/hosts", data={"q": "holm"})
    html = client.get("/vetting/hosts").get_data(as_text=True)
    assert "More than 3 hosts" in html and "Page 1 of more than 2" in html and 'rel="next"' in html
    # Past the cap, each page still counts just past itself, so "next" leads on to the last host.
    html = client.get("/vetting/hosts?page=3").get_data(as_text=True)
    assert "Anna Holm 4" in html and "Anna Holm 5" in html and 'rel="next"' in html
    html = client.get("/vetting/hosts?page=4").get_data(as_text=True)
    assert "Anna Holm 6" in html and 'rel="next"' not in html and "7 hosts" in html
    client.post("/vetting/hosts", data={"q": "olle"})
    html = client.get("/vetting/hosts").get_data(as_text=True)
    assert "1 host" in html and "More than" not in html
    # Without a search word (filters only) the list gives the exact number, above the cap too.
    client.post("/vetting/hosts", data={"clear": "1"})
    html = client.get("/vetting/hosts").get_data(as_text=True)
    assert "8 hosts" in html and "More than" not in html and "Page 1 of 4" in html
