"""Issue 14: home pages are to-do lists whose counts link to the filtered page."""

from __future__ import annotations

import datetime as dt
import re

from ebo.clock import today
from ebo.extensions import db as _db
from tests.factories import make_family, make_host


def _todo(html: str) -> dict[str, tuple[str, int]]:
    section = html.split('id="todo-heading"', 1)[1].split("</section>", 1)[0]
    return {label.strip(): (href.replace("&amp;", "&"), int(n))
            for href, label, n in re.findall(r'<a href="([^"]+)">([^<:]+): <strong>(\d+)</strong>', section)}


def test_coordinator_home_lists_what_waits(client, login_as, db):
    make_host(vetting="registered")
    make_host(vetting="registered")
    make_host(vetting="registered", state="withdrawn")  # withdrawn: nothing to do
    make_host(vetting="visited")
    make_family(needed_from=today() - dt.timedelta(days=20))
    make_family(needed_from=today() - dt.timedelta(days=3))
    _db.session.commit()
    login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    todo = _todo(client.get("/home").get_data(as_text=True))
    assert todo["Hosts to visit"] == ("/vetting/?status=registered", 2)
    assert todo["Visited hosts waiting for a decision"] == ("/vetting/?status=visited", 1)
    assert todo["Families waiting longer than 14 days (start a matching run)"] == ("/runs/", 1)
    assert "Accepted proposals to confirm" not in todo  # nothing waits: not listed
    # The linked page shows exactly the counted hosts.
    html = client.get("/vetting/?status=registered").get_data(as_text=True)
    assert html.count('href="/vetting/hosts/') == 2


def test_caseworker_home_links_to_the_filtered_family_list(client, login_as, db):
    old = make_family(needed_from=today() - dt.timedelta(days=20))
    new = make_family(needed_from=today() - dt.timedelta(days=3))
    make_family(status="placed")
    _db.session.commit()
    login_as("caseworker")
    client.post("/language", data={"lang": "en"})
    todo = _todo(client.get("/home").get_data(as_text=True))
    assert todo["Families waiting"] == ("/families/?status=waiting", 2)
    url, n = todo["Families waiting longer than 14 days"]
    assert n == 1 and "needed_before=" in url
    listed = client.get(url).get_data(as_text=True)
    assert f'href="/families/{old.id}"' in listed and f'href="/families/{new.id}"' not in listed
    assert "Follow-up visits overdue" not in todo


def test_empty_todo_says_so(client, login_as, db):
    login_as("admin")
    client.post("/language", data={"lang": "en"})
    assert "Nothing is waiting for you right now." in client.get("/home").get_data(as_text=True)
