"""Geocoding: the address table, a Nominatim-compatible service on a local server, not found → flagged."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from ebo.models import AddressPoint, HostHousehold
from ebo.services import geocode


@pytest.fixture
def points(db):
    db.session.add_all(
        [
            AddressPoint(postal_code="123 45", street="storgatan 1", lat=59.30, lon=18.00),
            AddressPoint(postal_code="123 45", street="", lat=59.31, lon=18.01),
        ]
    )
    db.session.commit()


def test_table_street_then_postal_code_centroid(points):
    g = geocode.TableGeocoder()
    assert g.locate("  Storgatan   1 ", "123 45", "X") == geocode.Location(59.30, 18.00, "address")
    assert g.locate("Lillgatan 9", "123 45", "X") == geocode.Location(59.31, 18.01, "postal_code")
    assert g.locate("Storgatan 1", "999 99", "X") is None


class _Handler(BaseHTTPRequestHandler):
    answers: dict = {}
    seen: list = []

    def do_GET(self):  # noqa: N802
        q = parse_qs(urlsplit(self.path).query)
        self.seen.append(q)
        body = self.answers.get(q.get("street", [""])[0], b"[]")
        self.send_response(200 if body != b"500" else 500)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def nominatim():
    _Handler.answers = {
        "Kungsgatan 2": json.dumps([{"lat": "59.33", "lon": "18.06"}]).encode(),
        "Far away 1": json.dumps([{"lat": "48.85", "lon": "2.35"}]).encode(),
        "Broken 1": b"not json",
        "Error 1": b"500",
    }
    _Handler.seen = []
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_nominatim_against_a_local_server(nominatim):
    g = geocode.NominatimGeocoder(nominatim, timeout=2)
    assert g.locate("Kungsgatan 2", "111 22", "Stockholm") == geocode.Location(59.33, 18.06, "address")
    q = _Handler.seen[-1]
    assert q["postalcode"] == ["11122"] and q["countrycodes"] == ["se"] and q["format"] == ["jsonv2"]
    assert g.locate("Nowhere 5", "111 22", "Stockholm") is None  # empty answer
    assert g.locate("Far away 1", "111 22", "Stockholm") is None  # outside Sweden: never silently wrong
    assert g.locate("Broken 1", "111 22", "Stockholm") is None
    assert g.locate("Error 1", "111 22", "Stockholm") is None


def test_unreachable_service_is_not_found():
    assert geocode.NominatimGeocoder("http://127.0.0.1:9", timeout=1).locate("a", "111 22", "b") is None
    assert geocode.NominatimGeocoder("file:///etc/passwd").locate("a", "111 22", "b") is None


def test_default_chain_uses_the_table_first_then_the_service(app, db, points, nominatim):
    app.config["GEOCODER_URL"] = nominatim
    try:
        h = HostHousehold(street="Kungsgatan 2", postal_code="111 22", town="Stockholm")
        assert geocode.geocode_household(h) and (h.lat, h.geocode_status) == (59.33, "ok")
        h = HostHousehold(street="Storgatan 1", postal_code="123 45", town="X")
        assert geocode.geocode_household(h) and h.lat == 59.30
        n = len(_Handler.seen)
        h = HostHousehold(street="Nowhere 5", postal_code="999 99", town="X", lat=1.0, lon=1.0)
        assert not geocode.geocode_household(h)
        assert (h.lat, h.lon, h.geocode_status) == (None, None, "not_found")
        assert len(_Handler.seen) == n + 1
    finally:
        app.config.pop("GEOCODER_URL")
