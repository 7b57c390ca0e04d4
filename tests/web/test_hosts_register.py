"""Host self-registration: one flow for account and household, field rules, double submit, public access."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
import sqlalchemy as sa

from ebo.models import AddressPoint, AuditEvent, EmailMessage, HostHousehold, User
from tests.conftest import count, login

GOOD_PASSWORD = "blue kettle morning walk"


def registration_data(**over) -> dict:
    """A valid registration form (as a browser posts it)."""
    data = {
        "contact_name": "Karin Ek",
        "email": "karin.ek@example.se",
        "phone": "070-123 45 67",
        "new_password": GOOD_PASSWORD,
        "confirm": GOOD_PASSWORD,
        "street": "Storgatan 1",
        "postal_code": "12345",
        "town": "Småstad",
        "adults_living": "2",
        "children_living": "1",
        "beds": "3",
        "rooms": "1",
        "accepts_children": "y",
        "step_free": "y",
        "languages": ["sv", "en"],
        "available_from": "",
        "available_until": "",
        "free_text": "A sunny room.",
        "consent": "y",
    }
    data.update(over)
    return data


def register(client, **over):
    """GET the form (for its one-time token) and POST it."""
    page = client.get("/host/register")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token = html.split('name="form_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    return client.post("/host/register", data=registration_data(form_token=token, **over))


def make_host(db, client, email="karin.ek@example.se", **over):
    """Register a host through the real form and log in; returns the household (client logged in as the host)."""
    resp = register(client, email=email, **over)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    assert resp.headers["Location"].endswith("/registered")
    assert login(client, email, over.get("new_password", GOOD_PASSWORD)).status_code == 302
    db.session.expire_all()
    return db.session.scalar(sa.select(HostHousehold).where(HostHousehold.email == email))


def test_start_page_offers_a_room(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/host/register"' in html


def test_register_creates_user_and_household_and_asks_to_confirm_the_address(db, client):
    db.session.add(AddressPoint(postal_code="123 45", street="storgatan 1", lat=59.3, lon=18.0))
    db.session.commit()
    resp = register(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/registered")
    assert client.get("/host/").status_code == 302  # not logged in: the answer must not differ for a taken address
    user = db.session.scalar(sa.select(User).where(User.email == "karin.ek@example.se"))
    assert user.role == "host" and user.name == "Karin Ek"
    h = user.host
    assert (h.beds, h.rooms, h.adults_living, h.children_living) == (3, 1, 2, 1)
    assert h.postal_code == "123 45" and h.phone == "+46701234567"
    assert h.languages == ["sv", "en"] and h.step_free and h.accepts_children and not h.has_pets
    assert (h.lat, h.lon, h.geocode_status) == (59.3, 18.0, "ok")
    assert h.vetting_status == "registered" and h.state == "active" and h.consent_at is not None
    assert not user.email_verified
    assert db.session.scalar(sa.select(EmailMessage).where(EmailMessage.kind == "verify_email")).to_addr == user.email
    assert login(client, user.email, GOOD_PASSWORD).status_code == 302
    assert client.get("/host/").status_code == 200  # logged in
    mail = db.session.scalar(sa.select(EmailMessage).where(EmailMessage.kind == "host_registered"))
    assert mail.to_addr == user.email and mail.sent_at is not None
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "host_registered")) is not None


def test_unknown_address_is_accepted_and_flagged(db, client):
    h = make_host(db, client)
    assert h.geocode_status == "not_found" and h.lat is None


def test_role_and_vetting_cannot_be_posted_in(db, client):
    h = make_host(
        db,
        client,
        role="admin",
        vetting_status="approved",
        state="paused",
        beds_used="3",
        lat="1",
        geocode_status="ok",
    )
    assert h.user.role == "host"
    assert (h.vetting_status, h.state, h.beds_used, h.lat) == ("registered", "active", 0, None)


@pytest.mark.parametrize(
    "field,value",
    [
        ("beds", "0"),
        ("beds", "21"),
        ("beds", "two"),
        ("rooms", "0"),
        ("rooms", "99"),
        ("adults_living", "-1"),
        ("children_living", "21"),
        ("postal_code", "1234"),
        ("postal_code", "012 34"),
        ("postal_code", "123456"),
        ("phone", "12345"),
        ("phone", "+4470123456789"),
        ("phone", "070-12"),
        ("email", "not-an-email"),
        ("contact_name", "x" * 121),
        ("free_text", "x" * 2001),
        ("languages", ["xx"]),
        ("languages", []),
        ("consent", ""),
        ("available_from", "2026-13-01"),
        ("confirm", "something else entirely"),
        ("new_password", "password"),
        ("street", ""),
        ("town", ""),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_lost(db, client, field, value):
    resp = register(client, **{field: value})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'id="{field}-error"' in html  # the message sits next to its field
    assert 'class="error-summary"' in html
    assert count(HostHousehold) == 0 and count(User) == 0
    if field != "contact_name":
        assert 'value="Karin Ek"' in html
    if field != "town":
        assert 'value="Småstad"' in html
    assert "A sunny room." in html or field == "free_text"
    assert 'checked id="languages-0"' in html or field == "languages"


def test_dates_must_be_in_order(db, client):
    resp = register(client, available_from="2030-06-01", available_until="2030-05-01")
    assert resp.status_code == 200 and 'id="available_until-error"' in resp.get_data(as_text=True)
    ok = make_host(db, client, available_from="2030-05-01", available_until="2030-06-01")
    assert ok.available_until == dt.date(2030, 6, 1)


def test_postal_code_and_phone_are_normalised(db, client):
    h = make_host(db, client, postal_code=" 123 45 ", phone="+46 (0)70 123 45 67")
    assert h.postal_code == "123 45" and h.phone == "+46701234567"


def test_email_already_registered_answers_like_a_new_registration(db, client, make_user):
    make_user("coordinator", email="taken@example.se")
    taken = register(client, email="Taken@Example.se")
    new = register(client, email="new-person@example.se")
    assert taken.status_code == new.status_code == 302
    assert taken.headers["Location"] == new.headers["Location"]
    main = [client.get(r.headers["Location"]).get_data(as_text=True).split("<main", 1)[1].split("</main>")[0]
            for r in (taken, new)]
    assert main[0] == main[1]
    assert count(HostHousehold) == 1
    kinds = {(m.to_addr, m.kind) for m in db.session.scalars(sa.select(EmailMessage))}
    assert ("taken@example.se", "account_exists") in kinds
    assert ("new-person@example.se", "verify_email") in kinds
    assert not any(to == "taken@example.se" and k != "account_exists" for to, k in kinds)


def test_double_submit_creates_one_household(db, client):
    page = client.get("/host/register").get_data(as_text=True)
    token = page.split('name="form_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    data = registration_data(form_token=token)
    first = client.post("/host/register", data=data)
    assert first.status_code == 302
    # the same POST again from a second client that still has the old cookie-less state
    other = client.application.test_client()
    again = other.post("/host/register", data=data)
    assert again.status_code == 302 and again.headers["Location"].endswith("/registered")  # same answer
    assert count(HostHousehold) == 1 and count(User) == 1
    # the person's own repeated submit is recognised: no "you already have an account" email
    assert db.session.scalar(sa.select(EmailMessage).where(EmailMessage.kind == "account_exists")) is None


def test_stale_token_keeps_the_input(db, client):
    resp = client.post("/host/register", data=registration_data(form_token="forged"))
    assert resp.status_code == 200
    assert 'value="Karin Ek"' in resp.get_data(as_text=True)
    assert count(HostHousehold) == 0


def test_logged_in_users_are_sent_on(db, client, login_as):
    login_as("coordinator")
    assert client.get("/host/register").status_code == 302


@contextlib.contextmanager
def own_app(tmp_path_factory, **config):
    """An app with its own configuration; its rows are wiped afterwards (the database may be shared)."""
    from ebo import create_app
    from ebo.extensions import db as _db
    from ebo.extensions import limiter
    from tests.conftest import _wipe, base_config

    was_enabled = limiter.enabled  # the limiter is process-global: restore it for the other tests' app
    app = create_app(base_config(tmp_path_factory, **config))
    with app.app_context():
        _db.create_all()
    try:
        yield app
    finally:
        limiter.enabled = was_enabled
        _wipe(app)
        with app.app_context():
            _db.engine.dispose()


def test_registration_is_rate_limited_on_successful_registrations_only(tmp_path_factory):
    with own_app(tmp_path_factory, RATELIMIT_ENABLED=True, REGISTER_RATE_LIMIT="2 per hour") as app:
        c = app.test_client()
        # Refused forms (typos) cost nothing: many in a row are all answered.
        assert [c.post("/host/register", data={"email": "x"}).status_code for _ in range(5)] == [200] * 5
        for n in range(2):  # a new browser on the same address each time
            assert register(app.test_client(), email=f"host{n}@example.se").status_code == 302
        assert register(app.test_client(), email="third@example.se").status_code == 429


def test_registration_with_csrf_on(tmp_path_factory):
    from ebo.extensions import db as _db

    with own_app(tmp_path_factory, WTF_CSRF_ENABLED=True) as app:
        c = app.test_client()
        assert c.post("/host/register", data=registration_data(form_token="x")).status_code == 400
        with app.app_context():
            assert _db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def _hidden(html: str, name: str) -> str:
    return html.split(f'name="{name}" type="hidden" value="', 1)[1].split('"', 1)[0]


def test_whole_host_flow_with_csrf_on(tmp_path_factory):
    from ebo.extensions import db as _db

    with own_app(tmp_path_factory, WTF_CSRF_ENABLED=True) as app:
        _csrf_flow(app, _db)


def _csrf_flow(app, _db):
    c = app.test_client()
    html = c.get("/host/register").get_data(as_text=True)
    data = registration_data(csrf_token=_hidden(html, "csrf_token"), form_token=_hidden(html, "form_token"))
    assert c.post("/host/register", data=data).status_code == 302
    html = c.get("/login").get_data(as_text=True)
    assert c.post("/login", data={"csrf_token": _hidden(html, "csrf_token"), "email": data["email"],
                                  "password": GOOD_PASSWORD}).status_code == 302
    html = c.get("/host/").get_data(as_text=True)
    assert c.post("/host/pause").status_code == 400  # no token
    assert c.post("/host/pause", data={"csrf_token": _hidden(html, "csrf_token")}).status_code == 302
    html = c.get("/host/my-data").get_data(as_text=True)
    resp = c.post(
        "/host/my-data/export",
        data={"export-csrf_token": _hidden(html, "export-csrf_token"), "export-password": GOOD_PASSWORD},
    )
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    with app.app_context():
        assert _db.session.scalar(sa.select(HostHousehold.state)) == "paused"


def test_non_ascii_form_token_is_refused_not_500(db, client):
    client.get("/host/register")
    resp = client.post("/host/register", data=registration_data(form_token="ä" * 20))
    assert resp.status_code == 200 and count(HostHousehold) == 0
