"""Authentication, sessions, CSRF, redirects, headers, throttling and audit (docs/security.md S4–S18)."""

from __future__ import annotations

import json
import os
import random
import re
import time
import uuid
from urllib.parse import quote, unquote, urlsplit

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st

from ebo import ConfigError, create_app
from ebo.extensions import db as _db
from ebo.extensions import limiter
from ebo.security import is_safe_next, public
from ebo.services import accounts
from tests.conftest import PASSWORD, base_config, login, new_client
from tests.web.test_access import placeholder

ROLES = ("host", "coordinator", "caseworker", "admin")
COOKIE = "ebo_session"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NEXT_RE = re.compile(r'id="next" name="next" type="hidden" value="([^"]*)"')  # the login form's own field




def _wipe(app) -> None:
    with app.app_context():
        _db.session.remove()
        with _db.engine.begin() as conn:
            from ebo.models.audit import allow_audit_removal

            allow_audit_removal(conn)  # the test wipe, like the retention purge
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())


def _own_app(tmp_path_factory, **extra):
    """An app of its own (its own SQLite file), with tables."""
    app = create_app(base_config(tmp_path_factory, **extra))
    with app.app_context():
        _db.create_all()
    return app


def _dispose(app) -> None:
    _wipe(app)
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _add_user(app, role="admin", email=None, password=PASSWORD, name=""):
    with app.app_context():
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.org"
        user = accounts.create_user(email, password, role, name or role.title(), check_policy=False)
        _db.session.commit()
        return {"id": user.id, "email": email}


def _token(resp) -> str:
    m = CSRF_RE.search(resp.get_data(as_text=True))
    assert m, "no CSRF token on the page"
    return m.group(1)


def _cookie(resp, name=COOKIE) -> str | None:
    for header in resp.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header
    return None


def _to_login(resp) -> bool:
    return resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == "/login"


def _is_local(location: str) -> bool:
    parts = urlsplit(location)
    return (
        location.startswith("/")
        and not location.startswith("//")
        and not location.startswith("/\\")
        and not parts.scheme
        and not parts.netloc
        and not any(ord(c) < 33 for c in location)
    )


def _reload(user):
    from ebo.models import User

    _db.session.rollback()  # end any snapshot; reload what the requests wrote
    return _db.session.get(User, user.id)


# --- CSRF (a suite with CSRF on) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def csrf_app(tmp_path_factory):
    app = _own_app(tmp_path_factory, WTF_CSRF_ENABLED=True)
    yield app
    _dispose(app)


@pytest.fixture
def csrf_client(csrf_app):
    yield new_client(csrf_app)
    _wipe(csrf_app)


def _csrf_login(client, email):
    token = _token(client.get("/login"))
    resp = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    return resp


def test_csrf_login_without_token_is_400(csrf_app, csrf_client):
    admin = _add_user(csrf_app)
    csrf_client.get("/login")
    resp = csrf_client.post("/login", data={"email": admin["email"], "password": PASSWORD})
    assert resp.status_code == 400
    assert _to_login(csrf_client.get("/home"))
    resp = csrf_client.post(
        "/login", data={"email": admin["email"], "password": PASSWORD, "csrf_token": "forged"}
    )
    assert resp.status_code == 400


def test_csrf_login_with_token_works(csrf_app, csrf_client):
    admin = _add_user(csrf_app)
    _csrf_login(csrf_client, admin["email"])
    assert csrf_client.get("/home").status_code == 200


def test_csrf_language_without_and_with_token(csrf_client):
    assert csrf_client.post("/language", data={"lang": "en"}).status_code == 400
    token = _token(csrf_client.get("/"))
    resp = csrf_client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert 'lang="en"' in csrf_client.get("/login").get_data(as_text=True)


def test_csrf_account_without_and_with_token(csrf_app, csrf_client):
    from ebo.models import User

    admin = _add_user(csrf_app)
    _csrf_login(csrf_client, admin["email"])
    data = {"pref-locale": "en", "pref-submit": "y"}
    assert csrf_client.post("/account", data=data).status_code == 400
    with csrf_app.app_context():
        assert _db.session.get(User, admin["id"]).locale is None
    token = _token(csrf_client.get("/account"))
    resp = csrf_client.post("/account", data={**data, "pref-csrf_token": token})
    assert resp.status_code == 302
    with csrf_app.app_context():
        assert _db.session.get(User, admin["id"]).locale == "en"


def test_csrf_password_change_without_token(csrf_app, csrf_client):
    from ebo.models import User

    admin = _add_user(csrf_app)
    _csrf_login(csrf_client, admin["email"])
    with csrf_app.app_context():
        before = _db.session.get(User, admin["id"]).password_hash
    resp = csrf_client.post(
        "/account",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "a new passphrase",
            "pw-confirm": "a new passphrase",
            "pw-submit": "y",
        },
    )
    assert resp.status_code == 400
    with csrf_app.app_context():
        assert _db.session.get(User, admin["id"]).password_hash == before


def test_csrf_admin_new_user_without_and_with_token(csrf_app, csrf_client):
    from ebo.models import User

    admin = _add_user(csrf_app)
    _csrf_login(csrf_client, admin["email"])
    email = f"staff-{uuid.uuid4().hex[:8]}@example.org"
    data = {
        "name": "New Staff",
        "email": email,
        "role": "caseworker",
        "new_password": "a long fresh passphrase",
        "your_password": PASSWORD,
        "submit": "y",
    }
    assert csrf_client.post("/admin/users/new", data=data).status_code == 400
    with csrf_app.app_context():
        assert _db.session.scalar(sa.select(User).where(User.email == email)) is None
    token = _token(csrf_client.get("/admin/users/new"))
    resp = csrf_client.post("/admin/users/new", data={**data, "csrf_token": token})
    assert resp.status_code == 302
    with csrf_app.app_context():
        assert _db.session.scalar(sa.select(User.role).where(User.email == email)) == "caseworker"


def test_csrf_admin_edit_user_without_token(csrf_app, csrf_client):
    from ebo.models import User

    admin = _add_user(csrf_app)
    host = _add_user(csrf_app, "host")
    _csrf_login(csrf_client, admin["email"])
    data = {"role": "admin", "active": "1", "your_password": PASSWORD, "submit": "y"}
    assert csrf_client.post(f"/admin/users/{host['id']}", data=data).status_code == 400
    with csrf_app.app_context():
        assert _db.session.get(User, host["id"]).role == "host"


def test_csrf_logout_without_and_with_token(csrf_app, csrf_client):
    admin = _add_user(csrf_app)
    _csrf_login(csrf_client, admin["email"])
    assert csrf_client.post("/logout").status_code == 400
    assert csrf_client.get("/home").status_code == 200  # still logged in
    token = _token(csrf_client.get("/home"))
    resp = csrf_client.post("/logout", data={"csrf_token": token})
    assert _to_login(resp)
    assert _to_login(csrf_client.get("/home"))


# --- open redirects on `next` ----------------------------------------------------------------------

EVIL_NEXT = [
    "//evil.example",
    "////evil.example",
    "///evil.example",
    "https:evil.example",
    "https://evil.example",
    "http://evil.example/account",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%2f%2fevil.example",
    "%5C%5Cevil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "%252F%252Fevil.example",
    "/%252F%252Fevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http:/evil",
    "http:evil",
    "evil.example",
    "@evil.example",
    " //evil.example",
    "\t//evil.example",
    "\n//evil.example",
    "\r\n//evil.example",
    "\x00//evil.example",
    "\x0b//evil.example",
    " https://evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/%09/evil.example",
    "/%0a/evil.example",
    "%09//evil.example",
    "\u3000//evil.example",
    "\uff0f\uff0fevil.example",
    "/\x00/evil.example",
    "/\\/evil.example",
    "/%5C/evil.example",
]


@pytest.mark.parametrize("payload", EVIL_NEXT, ids=[repr(p)[1:-1] or "empty" for p in EVIL_NEXT])
def test_login_next_open_redirect(client, make_user, payload):
    user = make_user("host")
    page = client.get("/login", query_string={"next": payload})
    if "\x00" in payload:  # NUL is refused outright (PostgreSQL cannot store it either)
        assert page.status_code == 400
        resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": payload})
        assert resp.status_code == 400
        return
    assert page.status_code == 200
    m = NEXT_RE.search(page.get_data(as_text=True))
    assert m is not None and "evil" not in m.group(1)
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": payload})
    assert resp.status_code == 302
    assert _is_local(resp.headers["Location"]), resp.headers["Location"]


@pytest.mark.parametrize("payload", EVIL_NEXT[:20], ids=[repr(p)[1:-1] for p in EVIL_NEXT[:20]])
def test_language_next_open_redirect(client, payload):
    resp = client.post("/language", data={"lang": "en", "next": payload})
    assert resp.status_code == 302
    assert _is_local(resp.headers["Location"]), resp.headers["Location"]


def test_local_next_is_honoured(client, make_user):
    user = make_user("host")
    page = client.get("/login", query_string={"next": "/account"})
    assert 'value="/account"' in page.get_data(as_text=True)
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": "/account"})
    assert resp.headers["Location"] == "/account"


def test_login_required_redirect_carries_a_local_next(client, make_user):
    user = make_user("admin")
    resp = client.get("/admin/users?role=host")
    assert _to_login(resp)
    nxt = dict(p.split("=", 1) for p in urlsplit(resp.headers["Location"]).query.split("&"))["next"]
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": unquote(nxt)})
    assert resp.headers["Location"].startswith("/admin/users")


@pytest.mark.parametrize("target", ["/", "/account", "/admin/users?role=host", "/home#top", "/a/b/c?x=%2F"])
def test_is_safe_next_accepts_local_paths(target):
    assert is_safe_next(target)


@pytest.mark.parametrize("target", [None, "", *EVIL_NEXT])
def test_is_safe_next_refuses(target):
    assert not is_safe_next(target)


_TOKENS = [
    "/",
    "//",
    "\\",
    "%2F",
    "%2f",
    "%5C",
    "%5c",
    "%25",
    "%09",
    "%00",
    ":",
    "http",
    "https",
    "javascript",
    "evil.example",
    "@",
    " ",
    "\t",
    "\n",
    "\r",
    "\x00",
    "\x0b",
    "?",
    "#",
    ".",
    "a",
    "%3A",
    "\u3000",
    "\uff0f",
]
_candidates = st.one_of(
    st.lists(st.sampled_from(_TOKENS), max_size=10).map("".join),
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(list("/\\:%.@?#2F5Ce \t\n\x00")), max_size=20),
)


def _as_browser_sees_it(s: str) -> str:
    """The WHATWG URL parser's preprocessing: strip C0 and space, drop tab/newline, \\ -> /."""
    s = s.strip("".join(chr(i) for i in range(0x21)))
    s = re.sub("[\t\n\r]", "", s)
    return s.replace("\\", "/")


@settings(max_examples=400, deadline=None)
@given(_candidates)
def test_is_safe_next_property(target):
    if not is_safe_next(target):
        return
    decoded = target
    for _ in range(4):
        parts = urlsplit(decoded)
        assert not parts.scheme and not parts.netloc, (target, decoded)
        decoded = unquote(decoded)
    seen = _as_browser_sees_it(target)
    assert seen.startswith("/") and not seen.startswith("//"), target
    assert not urlsplit(seen).netloc and not urlsplit(seen).scheme


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30))
def test_is_safe_next_refuses_encoded_double_slash(tail):
    for prefix in ("//", "/\\", "\\\\", "https://"):
        assert not is_safe_next(quote(prefix, safe="") + tail)
        assert not is_safe_next(prefix + tail)


# --- headers on every page -------------------------------------------------------------------------


def _pages(app):
    """A URL for every GET rule (placeholders in parameters), plus error pages."""
    urls = []
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            values = {name: placeholder(rule, name) for name in rule.arguments}
            if rule.endpoint == "static":
                values["filename"] = "ebo.css"
            urls.append((rule.endpoint, adapter.build(rule.endpoint, values)))
    urls += [("404", "/no-such-page"), ("405", "/logout"), ("403", "/admin/users")]
    return urls


def _csp(resp) -> dict[str, list[str]]:
    out = {}
    for directive in resp.headers.get("Content-Security-Policy", "").split(";"):
        parts = directive.split()
        if parts:
            out[parts[0].lower()] = parts[1:]
    return out


def _check_headers(endpoint, url, resp):
    where = (endpoint, url, resp.status_code)
    assert resp.status_code < 500, where
    csp = _csp(resp)
    assert csp.get("object-src") == ["'none'"], where
    assert csp.get("base-uri") == ["'none'"], where
    assert csp.get("frame-ancestors") == ["'none'"], where
    script = csp.get("script-src", csp.get("default-src"))
    assert script, where
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script and "*" not in script, where
    assert "data:" not in script and "http:" not in script and "https:" not in script, where
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", where
    assert resp.headers.get("Referrer-Policy") in {
        "same-origin",
        "no-referrer",
        "strict-origin-when-cross-origin",
        "strict-origin",
    }, where
    if endpoint != "static":
        assert "no-store" in resp.headers.get("Cache-Control", ""), where
    assert "Strict-Transport-Security" not in resp.headers  # only in production


@pytest.mark.parametrize("role", [None, *ROLES])
def test_headers_on_every_page(app, client, login_as, role):
    if role:
        login_as(role)
    for endpoint, url in _pages(app):
        with client.get(url) as resp:
            _check_headers(endpoint, url, resp)
    for url, data in [
        ("/login", {"email": "x@example.org", "password": "nope"}),
        ("/language", {"lang": "en"}),
    ]:
        _check_headers(url, url, client.post(url, data=data))


# --- cookies and production configuration ---------------------------------------------------------


def test_session_cookie_flags(client, make_user):
    user = make_user("host")
    header = _cookie(login(client, user))
    assert header is not None
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header  # development over plain http


def test_no_remember_me_cookie(client, make_user):
    user = make_user("admin")
    resp = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "remember": "y", "remember_me": "y"}
    )
    assert resp.status_code == 302
    assert _cookie(resp, "remember_token") is None


@pytest.fixture
def prod_env(monkeypatch):
    key = "prod-" + uuid.uuid4().hex
    monkeypatch.setenv("EBO_SECRET_KEY", key)
    return key


def _prod_config(tmp_path_factory, **extra):
    cfg = base_config(tmp_path_factory, ENV_NAME="production", **extra)
    cfg.pop("SECRET_KEY")  # the key must come from the environment
    return cfg


def test_production_cookies_secure_and_hsts(tmp_path_factory, prod_env):
    app = create_app(_prod_config(tmp_path_factory))
    try:
        with app.app_context():
            _db.create_all()
        assert app.config["SECRET_KEY"] == prod_env
        assert app.debug is False
        user = _add_user(app, "host")
        client = new_client(app)
        page = client.get("/login")
        assert "max-age=" in page.headers.get("Strict-Transport-Security", "")
        resp = client.post("/login", data={"email": user["email"], "password": PASSWORD})
        assert resp.status_code == 302
        header = _cookie(resp)
        assert header and "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
        assert "max-age=" in resp.headers.get("Strict-Transport-Security", "")
    finally:
        _dispose(app)


def test_production_without_secret_key_refuses_to_start(tmp_path_factory, monkeypatch):
    monkeypatch.delenv("EBO_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app(_prod_config(tmp_path_factory))


def test_production_with_empty_secret_key_refuses_to_start(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("EBO_SECRET_KEY", "")
    with pytest.raises(ConfigError):
        create_app(_prod_config(tmp_path_factory))


def test_production_refuses_debug(tmp_path_factory, prod_env):
    with pytest.raises(ConfigError):
        create_app(_prod_config(tmp_path_factory, DEBUG=True))


def test_production_error_page_is_generic(tmp_path_factory, prod_env):
    app = create_app(_prod_config(tmp_path_factory, TESTING=False))

    @public
    def boom():
        raise RuntimeError("internal-detail-6f1c: connection string postgres://secret@db")

    app.add_url_rule("/boom", "boom", boom)
    try:
        with app.app_context():
            _db.create_all()
        resp = new_client(app).get("/boom")
        body = resp.get_data(as_text=True)
        assert resp.status_code == 500
        for leak in ("Traceback", "RuntimeError", "internal-detail-6f1c", "postgres://", 'File "'):
            assert leak not in body
        assert "<h1>" in body  # the styled error page, not a bare werkzeug page
        assert resp.headers.get("Cache-Control") == "no-store"
    finally:
        _dispose(app)


# --- sessions: fixation, revocation, timeouts -----------------------------------------------------


def test_session_is_cleared_and_cookie_changes_at_login(client, make_user):
    user = make_user("host")
    client.post("/language", data={"lang": "en"})
    with client.session_transaction() as s:
        s["planted"] = "by-attacker"
    before = client.get_cookie(COOKIE).value
    assert login(client, user).status_code == 302
    after = client.get_cookie(COOKIE).value
    assert after != before
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s.get("lang") == "en"  # the language choice survives, nothing else


def test_old_cookie_after_logout_is_rejected(app, client, make_user):
    user = make_user("caseworker")
    login(client, user)
    assert client.get("/home").status_code == 200
    stolen = client.get_cookie(COOKIE).value
    assert _to_login(client.post("/logout"))
    thief = new_client(app)
    thief.set_cookie(COOKIE, stolen)
    assert _to_login(thief.get("/home"))
    assert _to_login(thief.get("/account"))


def test_password_change_revokes_other_sessions(app, db, client, make_user):
    user = make_user("host")
    other = new_client(app)
    login(client, user)
    login(other, user)
    assert other.get("/home").status_code == 200
    new = "a brand new passphrase"
    resp = client.post(
        "/account",
        data={"pw-current_password": PASSWORD, "pw-new_password": new, "pw-confirm": new, "pw-submit": "y"},
    )
    assert resp.status_code == 302
    assert client.get("/home").status_code == 200  # this session stays
    assert _to_login(other.get("/home"))  # the other is revoked
    assert login(new_client(app), user, new).status_code == 302
    assert login(new_client(app), user, PASSWORD).status_code == 200


def test_deactivation_revokes_sessions(app, db, client, make_user):
    host = make_user("host")
    admin = make_user("admin")
    login(client, host)
    assert client.get("/home").status_code == 200
    staff = new_client(app)
    login(staff, admin)
    resp = staff.post(
        f"/admin/users/{host.id}",
        data={"role": "host", "active": "0", "your_password": PASSWORD, "submit": "y"},
    )
    assert resp.status_code == 302
    assert _to_login(client.get("/home"))
    assert login(new_client(app), host).status_code == 200


def test_role_change_revokes_sessions(app, db, client, make_user):
    host = make_user("host")
    admin = make_user("admin")
    login(client, host)
    staff = new_client(app)
    login(staff, admin)
    staff.post(
        f"/admin/users/{host.id}",
        data={"role": "coordinator", "active": "1", "your_password": PASSWORD, "submit": "y"},
    )
    assert _to_login(client.get("/home"))


def test_idle_timeout(app, client, make_user):
    login(client, make_user("coordinator"))
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with client.session_transaction() as s:
        s["last_seen"] = time.time() - idle + 60
    assert client.get("/home").status_code == 200  # still within the idle window; refreshed
    with client.session_transaction() as s:
        assert s["last_seen"] > time.time() - 5
        s["last_seen"] = time.time() - idle - 1
    assert _to_login(client.get("/home"))
    assert _to_login(client.get("/home"))  # and the session stays ended


def test_absolute_timeout(app, client, make_user):
    login(client, make_user("admin"))
    absolute = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    with client.session_transaction() as s:
        s["login_at"] = time.time() - absolute - 1
        s["last_seen"] = time.time()
    assert _to_login(client.get("/home"))


def test_session_without_user_token_is_anonymous(app, client, make_user):
    user = make_user("admin")
    login(client, user)
    with client.session_transaction() as s:
        s["_user_id"] = str(user.id)  # the id without the session token
    assert _to_login(client.get("/home"))


# --- login throttle -------------------------------------------------------------------------------


@pytest.fixture
def make_limited_app(tmp_path_factory):
    """Factory: an app of its own with the login throttle on (10 per minute)."""
    made = []

    def factory(from_env: bool = False):
        cfg = base_config(tmp_path_factory, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="10 per minute",
                          LOGIN_ACCOUNT_LIMIT="100 per minute")  # per address here; per account: test_accounts_throttle
        if from_env:
            cfg.pop("REDIS_URL")  # let EBO_REDIS_URL from the environment through, as in production
        app = create_app(cfg)
        with app.app_context():
            _db.create_all()
        made.append(app)
        return app

    yield factory
    limiter.enabled = False  # do not leak the global flag into later tests
    for app in made:
        _dispose(app)


def _client_from(app, ip):
    c = new_client(app)
    c.environ_base["REMOTE_ADDR"] = ip
    return c


def _random_ip() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def _throttle_scenario(app):
    user = _add_user(app, "host")
    ip = _random_ip()
    attacker, good = _client_from(app, ip), _client_from(app, ip)
    for i in range(10):
        resp = attacker.post("/login", data={"email": user["email"], "password": f"wrong {i}"})
        assert resp.status_code == 200, i
        if i % 4 == 0:  # successful logins from the same address do not count
            ok = good.post("/login", data={"email": user["email"], "password": PASSWORD})
            assert ok.status_code == 302, i
    resp = attacker.post("/login", data={"email": user["email"], "password": "wrong again"})
    assert resp.status_code == 429
    assert "Traceback" not in resp.get_data(as_text=True)
    assert attacker.get("/login").status_code == 200  # only POST is limited
    other = _client_from(app, _random_ip())
    assert other.post("/login", data={"email": user["email"], "password": "x"}).status_code == 200
    return ip


def test_login_throttle(make_limited_app):
    from limits.storage import MemoryStorage

    app = make_limited_app()
    assert isinstance(limiter.storage, MemoryStorage)
    _throttle_scenario(app)


def test_login_throttle_uses_redis_when_configured(make_limited_app):
    url = os.environ.get("EBO_REDIS_URL")
    if not url:
        pytest.skip("EBO_REDIS_URL is not set: the Redis-backed limiter is tested in CI only")
    import redis
    from limits.storage import RedisStorage

    app = make_limited_app(from_env=True)
    assert app.config["RATELIMIT_STORAGE_URI"] == url
    assert isinstance(limiter.storage, RedisStorage)
    ip = _throttle_scenario(app)
    r = redis.Redis.from_url(url)
    try:
        assert any(ip.encode() in key for key in r.scan_iter(match=f"*{ip}*"))
    finally:
        r.close()


# --- passwords ------------------------------------------------------------------------------------


def test_hash_is_argon2id(db, make_user):
    user = make_user("host")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_rehash_on_login_when_parameters_change(db, client, make_user):
    from ebo.models import AuditEvent

    user = make_user("host")
    old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=2).hash(PASSWORD)
    user.password_hash = old
    db.session.commit()
    assert login(client, user).status_code == 302
    fresh = _reload(user)
    assert fresh.password_hash != old
    assert fresh.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(fresh.password_hash, PASSWORD)
    assert not accounts.hasher().check_needs_rehash(fresh.password_hash)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "password_rehashed")
        )
        == 1
    )
    # and logging in again keeps the (now current) hash
    client.post("/logout")
    assert login(client, user).status_code == 302
    assert _reload(user).password_hash == fresh.password_hash


def test_no_rehash_when_parameters_match(db, client, make_user):
    user = make_user("host")
    old = user.password_hash
    login(client, user)
    assert _reload(user).password_hash == old


@pytest.mark.parametrize(
    "password,ok",
    [
        ("short7!", False),
        ("", False),
        ("abcdefg", False),
        ("abcdefgh", True),
        ("aB3$eF7*", True),
        ("Tr0ub4dor&3x", True),
        ("correct horse battery staple", True),  # a lowercase passphrase: no composition rules
        ("a long lowercase passphrase with words", True),
        ("password123", False),
        ("PASSWORD123", False),
        ("lösenord123", False),
        ("LÖSENORD123", False),
        ("aaaaaaaaaaaa", False),
        (("0123456789abcdef" * 4), True),  # 64
        (("0123456789abcdef" * 8), True),  # 128
        (("0123456789abcdef" * 8) + "x", False),  # 129
    ],
)
def test_password_policy(app, password, ok):
    with app.test_request_context():
        problem = accounts.password_problem(
            password, accounts.context_words("someone@example.org", "Some One")
        )
    assert (problem is None) is ok, problem


@pytest.mark.parametrize(
    "password", ["anna.karlsson1", "karlsson2024", "Anna.Karlsson!", "anna.karlsson@example.org"]
)
def test_password_policy_refuses_email_based(app, password):
    with app.test_request_context():
        problem = accounts.password_problem(
            password, accounts.context_words("anna.karlsson@example.org", "Anna Karlsson")
        )
    assert problem is not None


@pytest.mark.parametrize(
    "new,ok",
    [
        ("seven77", False),
        ("password123", False),
        ("lösenord123", False),
        ("anna.karlsson1", False),  # built from the email
        ("x" * 4 + "correct horse battery staple river"[:60], True),
        (("0123456789abcdef" * 4), True),
        (("0123456789abcdef" * 8), True),
        (("0123456789abcdef" * 8) + "x", False),
    ],
)
def test_password_policy_through_the_account_form(db, client, make_user, new, ok):
    user = make_user("host", email="anna.karlsson@example.org", name="Anna Karlsson")
    login(client, user)
    before = user.password_hash
    resp = client.post(
        "/account",
        data={"pw-current_password": PASSWORD, "pw-new_password": new, "pw-confirm": new, "pw-submit": "y"},
    )
    assert resp.status_code == (302 if ok else 200)
    assert (_reload(user).password_hash != before) is ok


# --- input size and error pages -------------------------------------------------------------------


def test_oversized_post_is_413(app, client, make_user):
    big = "a" * (app.config["MAX_CONTENT_LENGTH"] + 1024)
    resp = client.post("/login", data={"email": big, "password": "x"})
    assert resp.status_code == 413
    login(client, make_user("admin"))
    resp = client.post("/account", data={"pref-locale": big, "pref-submit": "y"})
    assert resp.status_code == 413
    resp = client.post("/admin/users/new", data={"name": big})
    assert resp.status_code == 413


def test_oversized_single_field_is_refused_not_500(client, make_user):
    user = make_user("host")
    resp = client.post("/login", data={"email": user.email, "password": "p" * 1_000_000})
    assert resp.status_code in (200, 400, 413)


# --- audit ----------------------------------------------------------------------------------------


def _counts(db) -> dict[str, int]:
    from ebo.models import AuditEvent

    rows = db.session.execute(sa.select(AuditEvent.action, sa.func.count()).group_by(AuditEvent.action))
    return {a: n for a, n in rows}


def test_audit_of_security_events(app, db, client, make_user):
    from ebo.models import AuditEvent

    host = make_user("host", email="audit.host@example.org")
    admin = make_user("admin", email="audit.admin@example.org")
    base = _counts(db)

    def delta():
        now = _counts(db)
        return {
            k: now.get(k, 0) - base.get(k, 0) for k in set(now) | set(base) if now.get(k, 0) != base.get(k, 0)
        }

    assert login(client, host, "wrong password").status_code == 200
    client.post("/login", data={"email": "nobody@example.org", "password": "hunter2hunter2"})
    assert login(client, host).status_code == 302
    assert client.get("/admin/users").status_code == 403
    assert client.post("/logout").status_code == 302
    staff = new_client(app)
    login(staff, admin)
    resp = staff.post(
        f"/admin/users/{host.id}",
        data={"role": "coordinator", "active": "1", "your_password": PASSWORD, "submit": "y"},
    )
    assert resp.status_code == 302
    db.session.rollback()
    d = delta()
    assert d.get("login_failed") == 2
    assert d.get("login") == 2
    assert d.get("authz_denied") == 1
    assert d.get("logout") == 1
    assert d.get("role_changed") == 1

    events = db.session.scalars(sa.select(AuditEvent)).all()
    for e in events:
        blob = json.dumps(e.details or {}) + " " + str(e.object_id) + " " + str(e.object_type)
        for secret in (
            PASSWORD,
            "wrong password",
            "hunter2hunter2",
            "audit.host",
            "audit.admin",
            "nobody@",
            "@example.org",
        ):
            assert secret not in blob, (e.action, blob)
        assert e.at is not None
    by_action = {e.action: e for e in events}
    assert by_action["login"].actor_id in (host.id, admin.id)
    assert by_action["role_changed"].actor_id == admin.id
    assert by_action["role_changed"].object_id == str(host.id)
    assert by_action["role_changed"].details == {"from": "host", "to": "coordinator"}
    assert by_action["authz_denied"].actor_id == host.id


# --- no GET changes state -------------------------------------------------------------------------


def test_get_logout_is_405_and_changes_nothing(db, client, make_user):
    user = make_user("host")
    token = user.session_token
    assert client.get("/logout").status_code == 405  # anonymous
    login(client, user)
    assert client.get("/logout").status_code == 405
    assert client.get("/home").status_code == 200
    assert _reload(user).session_token == token
    assert client.get("/language?lang=en").status_code == 405


def test_get_of_forms_with_query_parameters_changes_nothing(db, client, make_user):
    """GET with form fields in the query string never saves anything."""
    user = make_user("admin")
    host = make_user("host")
    login(client, user)
    client.get("/account", query_string={"pref-locale": "en", "pref-submit": "y"})
    client.get(
        f"/admin/users/{host.id}",
        query_string={"role": "admin", "active": "0", "your_password": PASSWORD, "submit": "y"},
    )
    assert _reload(user).locale is None
    assert _reload(host).role == "host"
