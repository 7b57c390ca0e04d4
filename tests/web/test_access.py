"""Access control: deny by default, the role × endpoint matrix, object-level checks (docs/security.md S1–S3)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.routing import Rule

from ebo.security import public_endpoints
from tests.conftest import PASSWORD, login

ROLES = ("host", "coordinator", "caseworker", "admin")
EVERYONE = frozenset(ROLES)
ADMIN_ONLY = frozenset({"admin"})

# The explicit public list. Adding a public page is a deliberate act: it must be added here too.
PUBLIC = {"main.index", "main.healthz", "auth.login", "auth.language", "static", "hosts.register",
          # welcome cards: partners check a card with no account
          "cards.verify", "cards.phone", "cards.key", "cards.revoked",

          # accounts: emailed links and the second login step work without a session
          "auth.forgot_password", "auth.forgot_password_sent", "auth.reset_password", "auth.accept_invitation",
          "auth.verify_email", "auth.confirm_email_change", "auth.registration_sent", "auth.login_code"}

# Role × endpoint matrix: which roles may GET each endpoint; every other role gets 403 or 404.
# A feature blueprint adds its rows here (the completeness test fails until it does).
# POST-only endpoints are listed too: GET answers 405 for everyone.
ROLE_MATRIX: dict[str, frozenset[str]] = {
    "static": EVERYONE,
    "main.index": EVERYONE,
    "main.healthz": EVERYONE,
    "main.home": EVERYONE,
    "auth.login": EVERYONE,  # logged in: 302 to the landing page
    "auth.logout": EVERYONE,  # POST only
    "auth.language": EVERYONE,  # POST only
    "auth.account": EVERYONE,
    "admin.users": ADMIN_ONLY,
    "admin.new_user": ADMIN_ONLY,
    "admin.edit_user": ADMIN_ONLY,
    # accounts: public link pages answer everyone; own-account pages everyone logged in
    **{f"auth.{ep}": EVERYONE for ep in (
        "forgot_password", "forgot_password_sent", "reset_password", "accept_invitation", "verify_email",
        "confirm_email_change", "registration_sent", "login_code", "resend_verification", "password_required",
        "mfa_setup", "mfa_new_codes", "mfa_off", "mfa_confirm")},
    **{f"admin.{ep}": ADMIN_ONLY for ep in ("invite", "invite_again", "reset_mfa")},
    # hosts: a host reaches only its own offer; registration is public
    "hosts.register": EVERYONE,
    **{f"hosts.{ep}": frozenset({"host"}) for ep in (
        "dashboard", "edit", "proposal", "my_data", "pause", "resume", "withdraw", "reconfirm", "another_family",
        "export", "erase")},
    # vetting: coordinators only
    **{f"vetting.{ep}": frozenset({"coordinator"}) for ep in (
        "queue", "hosts", "host", "record_visit", "decide", "geocode")},
    # registry: caseworkers keep the registers; admins may read families; coordinators see
    # schools and units (what matching needs), never family records
    "families.index": frozenset({"caseworker", "admin"}),
    "families.detail": frozenset({"caseworker", "admin"}),
    # the matching profile (issue 14): no names, dossier number or health details; every staff role
    "families.profile_page": frozenset({"coordinator", "caseworker", "admin"}),
    "families.waiting": frozenset({"coordinator", "caseworker", "admin"}),
    **{f"families.{ep}": frozenset({"caseworker"}) for ep in ("new", "edit", "import_", "set_status")},
    "schools.index": frozenset({"caseworker", "admin", "coordinator"}),
    "units.index": frozenset({"caseworker", "admin", "coordinator"}),
    **{ep: frozenset({"caseworker"}) for ep in (
        "schools.new", "schools.edit", "schools.import_", "units.new", "units.edit")},
    "admin.settings": ADMIN_ONLY,
    "admin.audit": ADMIN_ONLY,
    "admin.addresses": frozenset({"admin", "caseworker"}),
    # Plus 5 %: staff see the figures; coordinators and admins start drills
    **{f"preparedness.{ep}": frozenset({"coordinator", "caseworker", "admin"}) for ep in (
        "dashboard", "drills", "drill", "report")},
    "preparedness.start": frozenset({"coordinator", "admin"}),
    # matching runs: coordinators and admins
    **{f"runs.{ep}": frozenset({"coordinator", "admin"}) for ep in (
        "index", "start", "detail", "approve_many", "send", "replay", "approve", "reject", "answer", "confirm",
        "move", "cancel")},
    # placements: coordinators follow up; caseworkers own the placements; admins see aggregates
    "placements.index": frozenset({"coordinator", "caseworker"}),
    "placements.detail": frozenset({"coordinator", "caseworker"}),
    "placements.follow_up": frozenset({"coordinator", "caseworker"}),
    "placements.end": frozenset({"caseworker"}),
    "placements.permit": frozenset({"caseworker"}),
    "placements.stay_on": frozenset({"caseworker"}),
    "placements.export": frozenset({"caseworker"}),
    "placements.overview": frozenset({"coordinator", "caseworker", "admin"}),
    # welcome cards: caseworkers only (cards show photos); admins keep the partners; checks are public
    **{f"cards.{ep}": frozenset({"caseworker"}) for ep in ("family", "issue", "card", "print_card", "pdf", "act")},
    "cards.partners": ADMIN_ONLY,
    "cards.partner": ADMIN_ONLY,
    **{f"cards.{ep}": EVERYONE for ep in ("verify", "phone", "key", "revoked")},
}

# URL parameters that should name a real object for the matrix: (endpoint, argument) -> f(current user).
# Without a row a parameter gets a placeholder (uuid4, "x", 1) and an allowed role may answer 404.
PARAM_FACTORIES: dict[tuple[str, str], Callable] = {
    ("static", "filename"): lambda user: "ebo.css",
    ("admin.edit_user", "user_id"): lambda user: user.id,
}


def placeholder(rule: Rule, name: str):
    """A generated value for a URL parameter, by converter."""
    conv = type(rule._converters[name]).__name__
    if conv == "UUIDConverter":
        return uuid.uuid4()
    if conv in {"IntegerConverter", "FloatConverter"}:
        return 1
    if conv == "AnyConverter":
        return sorted(rule._converters[name].items)[0]
    return "x"


def build_url(app, rule: Rule, user=None) -> tuple[str, bool]:
    """The rule's URL with parameters filled in; the flag says whether any was a placeholder."""
    values, placeholders = {}, False
    for name in rule.arguments:
        factory = PARAM_FACTORIES.get((rule.endpoint, name))
        if factory is not None and user is not None:
            values[name] = factory(user)
        else:
            values[name] = placeholder(rule, name)
            placeholders = True
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, values, force_external=False), placeholders


def rules(app) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


def redirects_to_login(resp) -> bool:
    return (
        resp.status_code in (301, 302, 303, 307, 308) and urlsplit(resp.headers["Location"]).path == "/login"
    )


# --- (1) deny by default -----------------------------------------------------------------------


def test_public_list_is_explicit(app):
    assert public_endpoints(app) == PUBLIC


def test_every_endpoint_is_in_the_role_matrix(app):
    missing = {r.endpoint for r in app.url_map.iter_rules()} - set(ROLE_MATRIX)
    assert not missing, (
        f"add rows for these endpoints to ROLE_MATRIX (and decide who may see them): {missing}"
    )


def test_anonymous_walk_over_every_rule(app, client):
    seen = set()
    for rule in rules(app):
        url, _ = build_url(app, rule)
        method = "GET" if "GET" in rule.methods else "POST"
        resp = client.open(url, method=method)
        resp.close()  # static files are streamed
        seen.add(rule.endpoint)
        assert resp.status_code < 500, (method, url, resp.status_code)
        if rule.endpoint in PUBLIC:
            assert not redirects_to_login(resp), (method, url)
        else:
            assert resp.status_code == 302, (method, url, resp.status_code)
            assert redirects_to_login(resp), (method, url, resp.headers.get("Location"))
    assert PUBLIC <= seen


def test_anonymous_public_pages_answer(client):
    assert client.get("/").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
    with client.get("/static/ebo.css") as resp:
        assert resp.status_code == 200


def test_anonymous_post_to_protected_form_endpoints_redirects(app, client):
    """State-changing methods on protected rules are gated too, not only GET."""
    for rule in rules(app):
        if "POST" not in rule.methods or rule.endpoint in PUBLIC:
            continue
        url, _ = build_url(app, rule)
        resp = client.post(url, data={"role": "admin"})
        assert redirects_to_login(resp), (url, resp.status_code)


# --- (2) role × endpoint matrix -----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_role_endpoint_matrix(app, client, login_as, role):
    user = login_as(role)
    for rule in rules(app):
        url, placeholders = build_url(app, rule, user)
        resp = client.get(url)
        resp.close()  # static files are streamed
        status = resp.status_code
        where = (role, rule.endpoint, url, status)
        assert status < 500, where
        if "GET" not in rule.methods:
            assert status == 405, where
            continue
        if rule.endpoint not in ROLE_MATRIX:
            continue  # only "never 500" until it has a row (test_every_endpoint_is_in_the_role_matrix)
        allowed = role in ROLE_MATRIX[rule.endpoint]
        if allowed:
            ok = status == 200 or (status in (301, 302, 303) and not redirects_to_login(resp))
            if placeholders:
                ok = ok or status == 404  # a placeholder id names no object
            assert ok, where
        else:
            assert status in (403, 404), where
    # still logged in: no request above ended the session
    assert client.get("/home").status_code == 200


# --- (3) object level and field binding ----------------------------------------------------------


def test_edit_user_with_unknown_id_is_404(client, login_as):
    login_as("admin")
    unknown = uuid.uuid4()
    assert client.get(f"/admin/users/{unknown}").status_code == 404
    resp = client.post(
        f"/admin/users/{unknown}",
        data={"role": "admin", "active": "1", "your_password": PASSWORD, "submit": "y"},
    )
    assert resp.status_code == 404


def test_edit_user_with_malformed_id_is_404(client, login_as):
    login_as("admin")
    assert client.get("/admin/users/not-a-uuid").status_code == 404
    assert client.get("/admin/users/1").status_code == 404


def test_deactivated_user_cannot_log_in(client, make_user):
    user = make_user("coordinator", active=False)
    resp = login(client, user)
    assert resp.status_code == 200  # the form again, with an error
    assert redirects_to_login(client.get("/home"))


def test_unknown_and_wrong_password_do_not_log_in(client, make_user):
    user = make_user("host")
    assert login(client, user, "wrong password here").status_code == 200
    assert login(client, "nobody@example.org").status_code == 200
    assert redirects_to_login(client.get("/home"))


def _reload(db, user):
    from ebo.models import User

    db.session.rollback()  # end any snapshot; reload what the requests wrote
    return db.session.get(User, user.id)


def test_role_cannot_be_posted_into_account_preferences(db, client, login_as):
    user = login_as("host")
    email, token = user.email, user.session_token
    resp = client.post(
        "/account",
        data={
            "pref-locale": "en",
            "pref-submit": "y",
            "role": "admin",
            "pref-role": "admin",
            "active": "0",
            "email": "x@evil.example",
            "session_token": "forged",
        },
    )
    assert resp.status_code == 302
    fresh = _reload(db, user)
    assert fresh.locale == "en"  # the declared field was bound
    assert (fresh.role, fresh.email, fresh.active, fresh.session_token) == ("host", email, True, token)
    assert client.get("/admin/users").status_code == 403


def test_role_cannot_be_posted_into_password_change(db, client, login_as):
    user = login_as("caseworker")
    resp = client.post(
        "/account",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "a new long passphrase",
            "pw-confirm": "a new long passphrase",
            "pw-submit": "y",
            "role": "admin",
            "pw-role": "admin",
        },
    )
    assert resp.status_code == 302
    assert _reload(db, user).role == "caseworker"


def test_role_cannot_be_posted_into_login(db, client, make_user):
    user = make_user("host")
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "role": "admin"})
    assert resp.status_code == 302
    assert _reload(db, user).role == "host"
    assert client.get("/admin/users").status_code == 403


@pytest.mark.parametrize("posted_role", ["host", "superuser", "", "ADMIN"])
def test_new_staff_account_only_takes_declared_staff_roles(db, client, login_as, posted_role):
    from ebo.models import User

    login_as("admin")
    email = f"new-{uuid.uuid4().hex[:8]}@example.org"
    resp = client.post(
        "/admin/users/new",
        data={
            "name": "New Person",
            "email": email,
            "role": posted_role,
            "new_password": "a long fresh passphrase",
            "your_password": PASSWORD,
            "submit": "y",
        },
    )
    assert resp.status_code == 200  # the form again, with an error
    assert db.session.scalar(sa.select(User).where(User.email == email)) is None


def test_edit_user_refuses_unknown_role(db, client, login_as, make_user):
    login_as("admin")
    target = make_user("host")
    resp = client.post(
        f"/admin/users/{target.id}",
        data={"role": "superuser", "active": "1", "your_password": PASSWORD, "submit": "y"},
    )
    assert resp.status_code == 200
    assert _reload(db, target).role == "host"


def test_role_change_needs_the_admins_own_password(db, client, login_as, make_user):
    login_as("admin")
    target = make_user("host")
    resp = client.post(
        f"/admin/users/{target.id}",
        data={"role": "admin", "active": "1", "your_password": "not my password", "submit": "y"},
    )
    assert resp.status_code == 200
    assert _reload(db, target).role == "host"


def test_admin_cannot_remove_own_admin_access(db, client, login_as):
    admin = login_as("admin")
    resp = client.post(
        f"/admin/users/{admin.id}",
        data={"role": "host", "active": "1", "your_password": PASSWORD, "submit": "y"},
    )
    assert resp.status_code == 200
    assert _reload(db, admin).role == "admin"


@pytest.mark.parametrize("role", ["host", "coordinator", "caseworker"])
def test_non_admin_cannot_post_admin_forms(db, client, login_as, make_user, role):
    from ebo.models import User

    login_as(role)
    target = make_user("host")
    email = f"sneak-{uuid.uuid4().hex[:8]}@example.org"
    resp = client.post(
        "/admin/users/new",
        data={
            "name": "X",
            "email": email,
            "role": "admin",
            "new_password": "a long fresh passphrase",
            "your_password": PASSWORD,
            "submit": "y",
        },
    )
    assert resp.status_code == 403
    resp = client.post(
        f"/admin/users/{target.id}",
        data={"role": "admin", "active": "1", "your_password": PASSWORD, "submit": "y"},
    )
    assert resp.status_code == 403
    assert db.session.scalar(sa.select(User).where(User.email == email)) is None
    assert _reload(db, target).role == "host"
