"""Welcome cards: issuing, lifecycle, signed tokens, access, privacy, RTL, PDF, partners, figures."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from PIL import Image
from pypdf import PdfReader

from ebo import clock
from ebo.cards.texts import TEXTS
from ebo.models import AuditEvent, CardPartner, CardPhoto, WelcomeCard
from ebo.services import cards as svc
from tests.conftest import login
from tests.factories import make_family


def _jpeg(color=(200, 120, 90), exif_text: str | None = None) -> bytes:
    img = Image.new("RGB", (320, 400), color)
    out = io.BytesIO()
    if exif_text:
        exif = Image.Exif()
        exif[0x010E] = exif_text  # ImageDescription
        img.save(out, "JPEG", exif=exif)
    else:
        img.save(out, "JPEG")
    return out.getvalue()


def _actions(action: str) -> list[AuditEvent]:
    from ebo.extensions import db

    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def family(db):
    f = make_family(adults=2, schools=(None,), dossier_number="D-4711", languages=("ar",))
    db.session.commit()
    return f


@pytest.fixture
def caseworker(login_as):
    return login_as("caseworker")


def _issue(family, db, member=0, language="sv", photo=None, **kw):
    card = svc.issue(family.members[member], kw.pop("first_name", "Rana"), language, kw.pop("valid_until", None),
                     photo, None, **kw)
    db.session.commit()
    return card


def _token_of(html: str) -> str:
    m = re.search(r"/cards/m/([A-Za-z0-9_-]+)", html)
    assert m, "no phone link on the page"
    return m.group(1)


# --------------------------------------------------------------------------- issuing


def test_default_validity_without_and_with_a_permit_decision(app, db, family):
    today = clock.today()
    assert svc.default_valid_until(family, today) == today + dt.timedelta(days=365)
    family.permit_decided_on = today - dt.timedelta(days=10)
    assert svc.default_valid_until(family, today) == today + dt.timedelta(days=80)
    app.config["CARD_GRACE_DAYS"] = 30
    try:
        assert svc.default_valid_until(family, today) == today + dt.timedelta(days=20)
    finally:
        app.config.pop("CARD_GRACE_DAYS")


def test_issue_by_caseworker_through_the_form_with_a_photo(client, db, family, caseworker):
    m = family.members[0]
    resp = client.get(f"/cards/family/{family.id}")
    assert resp.status_code == 200
    assert 'enctype="multipart/form-data"' in resp.text
    resp = client.post(f"/cards/family/{family.id}/member/{m.id}/issue",
                       data={"first_name": "Rana", "language": "ar", "valid_until": "",
                             "photo": (io.BytesIO(_jpeg(exif_text="Gatan 5, Sjövik")), "me.jpg")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302, resp.text[:2000]
    card = db.session.scalar(sa.select(WelcomeCard))
    assert card.first_name == "Rana" and card.language == "ar" and card.status == "active"
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", card.number)
    assert card.valid_until == clock.today() + dt.timedelta(days=365)
    assert resp.headers["Location"].endswith(f"/cards/{card.id}")
    # the photo is stored encrypted, re-encoded without metadata
    stored = db.session.scalar(sa.select(CardPhoto.data))
    assert not stored.startswith(b"\xff\xd8") and b"Gatan 5" not in stored
    plain = svc.photo_bytes(card)
    assert plain.startswith(b"\xff\xd8")
    assert b"Gatan" not in plain and not Image.open(io.BytesIO(plain)).getexif()
    assert [e.object_id for e in _actions("card_issue")] == [str(card.id)]
    assert "Rana" not in str(_actions("card_issue")[0].details)


def test_issue_refuses_a_bad_photo_a_second_card_and_a_past_date(client, db, family, caseworker):
    m = family.members[0]
    url = f"/cards/family/{family.id}/member/{m.id}/issue"
    resp = client.post(url, data={"first_name": "Rana", "language": "sv",
                                  "photo": (io.BytesIO(b"not a picture"), "x.jpg")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "kunde inte läsas som en bild" in resp.text
    huge = io.BytesIO()
    Image.new("1", (8000, 6000)).save(huge, "PNG")  # small file, 48 million pixels
    resp = client.post(url, data={"first_name": "Rana", "language": "sv",
                                  "photo": (io.BytesIO(huge.getvalue()), "x.png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400 and "Fotot är för stort" in resp.text
    resp = client.post(url, data={"first_name": "Rana", "language": "sv", "valid_until": "2001-01-01"})
    assert resp.status_code == 400 and "redan ha gått ut" in resp.text
    resp = client.post(url, data={"first_name": "", "language": "sv"})
    assert resp.status_code == 400
    resp = client.post(url, data={"first_name": "Rana", "language": "xx"})
    assert resp.status_code == 400
    assert client.post(url, data={"first_name": "Rana", "language": "sv"}).status_code == 302
    resp = client.post(url, data={"first_name": "Rana", "language": "sv"})
    assert resp.status_code == 400 and "har redan ett kort" in resp.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WelcomeCard)) == 1


def test_member_of_another_family_is_404(client, db, family, caseworker):
    other = make_family()
    db.session.commit()
    resp = client.post(f"/cards/family/{family.id}/member/{other.members[0].id}/issue",
                       data={"first_name": "X", "language": "sv"})
    assert resp.status_code == 404


# --------------------------------------------------------------------------- lifecycle


def test_suspend_resume_reissue_withdraw_take_effect_at_once(client, db, family, caseworker):
    card = _issue(family, db, photo=_jpeg())
    token = svc.make_token(card)
    assert svc.verify(token).verdict == svc.Verdict.VALID
    assert client.post(f"/cards/{card.id}/suspend").status_code == 302
    assert svc.verify(token).verdict == svc.Verdict.SUSPENDED
    assert "Avstängt" in client.get(f"/cards/v/{token}").text
    assert client.post(f"/cards/{card.id}/resume").status_code == 302
    assert svc.verify(token).verdict == svc.Verdict.VALID
    resp = client.post(f"/cards/{card.id}/reissue")
    assert resp.status_code == 302
    new = db.session.scalar(sa.select(WelcomeCard).where(WelcomeCard.replaces_id == card.id))
    assert new.number != card.number and new.status == "active" and new.photo is not None
    assert svc.verify(token).verdict == svc.Verdict.NOT_VALID  # the lost card stops at once
    new_token = svc.make_token(new)
    assert new_token != token and svc.verify(new_token).verdict == svc.Verdict.VALID
    assert client.post(f"/cards/{card.id}/resume").status_code == 302  # refused with a message, not a 500
    db.session.refresh(card)
    assert card.status == "replaced"
    assert client.post(f"/cards/{new.id}/withdraw").status_code == 302
    assert svc.verify(new_token).verdict == svc.Verdict.NOT_VALID
    for action in ("card_suspend", "card_resume", "card_replace", "card_reissue", "card_withdraw"):
        assert len(_actions(action)) == 1, action


def test_expired_card(db, family):
    card = _issue(family, db)
    token = svc.make_token(card)
    assert svc.verify(token, today=card.valid_until).verdict == svc.Verdict.VALID
    assert svc.verify(token, today=card.valid_until + dt.timedelta(days=1)).verdict == svc.Verdict.EXPIRED


# --------------------------------------------------------------------------- tokens


def test_token_names_nobody_and_tampering_is_refused(app, db, family):
    card = _issue(family, db, first_name="Zainab")
    token = svc.make_token(card)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) == 85 and raw[1:17] == card.id.bytes
    assert b"Zainab" not in raw and card.number.encode() not in raw
    assert svc.read_token(token) == (card.id, card.valid_until)
    # change the validity day in the body: the signature no longer matches
    forged = bytearray(raw)
    forged[20] ^= 0x01
    assert svc.read_token(base64.urlsafe_b64encode(bytes(forged)).rstrip(b"=").decode()) is None
    # flip a bit of the signature
    forged = bytearray(raw)
    forged[-1] ^= 0x80
    assert svc.read_token(base64.urlsafe_b64encode(bytes(forged)).rstrip(b"=").decode()) is None
    for bad in ("", "x", token[:-4], token + "AAAA", "!" * 114, "A" * 500):
        assert svc.verify(bad).verdict == svc.Verdict.NOT_VALID
    # a token signed by another key (another installation) is refused
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    body = raw[:21]
    other = Ed25519PrivateKey.generate().sign(svc.TOKEN_CONTEXT + body)
    assert svc.read_token(base64.urlsafe_b64encode(body + other).rstrip(b"=").decode()) is None


def test_offline_verification_with_the_published_key(client, db, family):
    card = _issue(family, db)
    token = svc.make_token(card)
    page = client.get("/cards/key").text
    pem = re.search(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", page, re.S).group(0)
    key = serialization.load_pem_public_key(pem.encode())
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    key.verify(raw[21:], b"ebo-welcome-card/1" + raw[:21])  # raises if it does not verify
    day = int.from_bytes(raw[17:21], "big")
    assert dt.date.fromordinal(day) == card.valid_until


def test_revocation_list_for_offline_checks(client, db, family):
    a = _issue(family, db, member=0)
    b = _issue(family, db, member=1, first_name="Omar")
    svc.suspend(b, None)
    db.session.commit()
    data = client.get("/cards/revoked.json").get_json()
    assert data["revoked"] == [str(b.id)] and data["key_id"] == svc.key_id()
    assert str(a.id) not in data["revoked"]
    assert "Omar" not in str(data)


def test_signing_key_can_be_set_apart_from_the_secret_key(app, db):
    seed = bytes(range(32))
    app.config["CARD_SIGNING_KEY"] = seed.hex()
    app.extensions.pop("ebo_cards", None)
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        expected = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        assert svc.public_key_pem() == expected
    finally:
        app.config.pop("CARD_SIGNING_KEY")
        app.extensions.pop("ebo_cards", None)


# --------------------------------------------------------------------------- the public pages


def test_verification_page_shows_only_the_allowed_facts(client, db, family):
    db.session.add(CardPartner(name="Stadsbiblioteket", kind="library", benefit="Lånekort utan id", active=True))
    db.session.add(CardPartner(name="Gamla partnern", kind="museum", benefit="Fri entré", active=False))
    card = _issue(family, db, photo=_jpeg())
    token = svc.make_token(card)
    resp = client.get(f"/cards/v/{token}")
    assert resp.status_code == 200
    page = resp.text
    assert "Giltigt" in page and "Rana" in page and "data:image/jpeg;base64," in page
    assert "Stadsbiblioteket" in page and "Lånekort utan id" in page and "Gamla partnern" not in page
    # no surname, no dossier number, no address or phone, no card number, no language
    for secret in ("Familj", "D-4711", "0731234567", card.number):
        assert secret not in page, secret
    bad = client.get("/cards/v/" + token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert bad.status_code == 200 and "Inte giltigt" in bad.text and "Rana" not in bad.text
    assert not _actions("card_photo_view")  # the public check reads no staff audit entry


def test_phone_version_is_in_the_cardholders_language_and_rtl(client, db, family):
    card = _issue(family, db, language="fa")
    page = client.get(f"/cards/m/{svc.make_token(card)}").text
    assert 'lang="fa" dir="rtl"' in page and TEXTS["fa"]["title"] in page and TEXTS["fa"]["valid_until"] in page
    card_ti = _issue(family, db, member=1, language="ti", first_name="Selam")
    page = client.get(f"/cards/m/{svc.make_token(card_ti)}").text
    assert 'lang="ti" dir="ltr"' in page and TEXTS["ti"]["title"] in page
    assert client.get("/cards/m/garbage").status_code == 404


def test_card_page_rtl_for_arabic_and_ltr_for_ukrainian(client, db, family, caseworker):
    ar = _issue(family, db, language="ar")
    uk = _issue(family, db, member=1, language="uk", first_name="Olena")
    page = client.get(f"/cards/{ar.id}").text
    assert page.count('lang="ar" dir="rtl"') == 2  # front and back
    assert TEXTS["ar"]["access"] in page
    page = client.get(f"/cards/{uk.id}").text
    assert page.count('lang="uk" dir="ltr"') == 2 and TEXTS["uk"]["title"] in page
    assert _token_of(page)
    assert {e.object_id for e in _actions("card_view")} == {str(ar.id), str(uk.id)}


# --------------------------------------------------------------------------- access control and privacy


@pytest.mark.parametrize("role", ["host", "coordinator", "admin"])
def test_only_caseworkers_see_cards_and_photos(client, db, family, login_as, role):
    card = _issue(family, db, photo=_jpeg())
    login_as(role)
    for url in (f"/cards/{card.id}", f"/cards/{card.id}/card.pdf", f"/cards/{card.id}/print",
                f"/cards/family/{family.id}"):
        resp = client.get(url)
        assert resp.status_code == 403, (role, url)
        assert "data:image/jpeg" not in resp.text
    assert client.post(f"/cards/{card.id}/suspend").status_code == 403
    db.session.refresh(card)
    assert card.status == "active"


def test_caseworker_photo_views_are_audited(client, db, family, caseworker):
    card = _issue(family, db, photo=_jpeg())
    assert "data:image/jpeg;base64," in client.get(f"/cards/{card.id}").text
    events = _actions("card_photo_view")
    assert [(e.object_id, e.actor_id) for e in events] == [(str(card.id), caseworker.id)]


def test_retention_erases_photo_and_name_and_stops_the_card(db, family):
    from ebo.services import retention

    card = _issue(family, db, photo=_jpeg())
    token = svc.make_token(card)
    retention.pseudonymise(family)
    db.session.commit()
    db.session.expire_all()
    card = db.session.get(WelcomeCard, card.id)
    assert card.first_name == "" and card.status == "withdrawn"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CardPhoto)) == 0
    assert svc.verify(token).verdict == svc.Verdict.NOT_VALID
    assert svc.figures()["issued"] == 1  # the count stays for the statistics


# --------------------------------------------------------------------------- PDF


@pytest.mark.parametrize("language", ["sv", "uk", "ar", "fa", "ti", "so", "en"])
def test_pdf_is_made_on_the_server_with_front_and_back(client, db, family, caseworker, language):
    db.session.add(CardPartner(name="SL", kind="transport", benefit="Fria resor", active=True))
    card = _issue(family, db, language=language, photo=_jpeg())
    resp = client.get(f"/cards/{card.id}/card.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(resp.data))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 85.6 / 25.4 * 72) < 1 and abs(float(box.height) - 53.98 / 25.4 * 72) < 1
    if language in ("sv", "uk", "en", "so"):
        text = reader.pages[0].extract_text() + reader.pages[1].extract_text()
        assert TEXTS[language]["title"] in text and card.number in text and "Fria resor" in text
    fonts = {str(f.get("/BaseFont")) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    if language in ("ar", "fa"):
        assert any("NotoSansArabic" in f for f in fonts), fonts
    if language == "ti":
        assert any("NotoSansEthiopic" in f for f in fonts), fonts
    assert [e.object_id for e in _actions("card_pdf")] == [str(card.id)]


def test_pdf_without_fonts_gives_a_clear_error(app, client, db, family, caseworker, tmp_path):
    card = _issue(family, db)
    app.config["CARD_FONT_DIR"] = str(tmp_path)
    try:
        resp = client.get(f"/cards/{card.id}/card.pdf")
    finally:
        app.config.pop("CARD_FONT_DIR")
    assert resp.status_code == 503 and "typsnitt saknas" in resp.text
    from ebo.services import card_pdf

    with app.test_request_context(), pytest.raises(card_pdf.CardFontMissing, match="fonts-noto-core"):
        app.config["CARD_FONT_DIR"] = str(tmp_path)
        try:
            card_pdf.font_dir()
        finally:
            app.config.pop("CARD_FONT_DIR")


def test_print_page_is_credit_card_sized(client, db, family, caseworker):
    card = _issue(family, db)
    page = client.get(f"/cards/{card.id}/print").text
    assert 'class="wcard wcard-front"' in page and 'class="wcard wcard-back"' in page
    css = client.get("/static/cards.css")
    assert "85.6mm" in css.text and "53.98mm" in css.text
    css.close()


# --------------------------------------------------------------------------- partners and figures


def test_admin_keeps_the_partner_list_and_cards_show_it(client, db, family, login_as, make_user):
    login_as("admin")
    resp = client.post("/cards/partners", data={"name": "Stadsmuseet", "kind": "museum", "benefit": "Fri entré",
                                                "position": "1", "active": "y"})
    assert resp.status_code == 302
    assert client.post("/cards/partners", data={"name": "", "kind": "museum", "benefit": ""}).status_code == 400
    assert client.post("/cards/partners", data={"name": "X", "kind": "zoo", "benefit": "y"}).status_code == 400
    p = db.session.scalar(sa.select(CardPartner))
    assert (p.name, p.kind, p.benefit, p.active) == ("Stadsmuseet", "museum", "Fri entré", True)
    assert client.post(f"/cards/partners/{p.id}", data={"name": "Stadsmuseet", "kind": "museum",
                                                         "benefit": "Fri entré och visning", "position": "1",
                                                         "active": "y"}).status_code == 302
    client.post("/logout")
    card = _issue(family, db, language="uk")
    login(client, make_user("caseworker"))
    page = client.get(f"/cards/{card.id}").text
    assert f"{TEXTS['uk']['museum']}: <bdi>Stadsmuseet</bdi> – <bdi>Fri entré och visning</bdi>" in page
    assert len(_actions("card_partner_save")) == 2


def test_figures_on_the_plus5_dashboard(client, db, family, login_as):
    a = _issue(family, db, member=0)
    b = _issue(family, db, member=1, first_name="Omar")
    c = _issue(family, db, member=2, first_name="Sara", valid_until=clock.today())
    svc.suspend(b, None)
    svc.reissue(a, None)
    db.session.commit()
    today = clock.today()
    assert svc.figures(today) == {"issued": 4, "active": 2, "suspended": 1, "expired": 0}
    assert svc.figures(today + dt.timedelta(days=1))["expired"] == 1
    assert c.id
    login_as("coordinator")
    page = client.get("/preparedness/").text
    assert "Välkommenkort" in page and "Utfärdade kort" in page


# --------------------------------------------------------------------------- translations


def test_card_catalogue_is_complete_for_every_language():
    from ebo.models import CARD_LANGUAGES, PartnerKind

    keys = set(TEXTS["en"])
    assert set(TEXTS) == set(CARD_LANGUAGES)
    assert {k.value for k in PartnerKind} <= keys
    for lang, texts in TEXTS.items():
        assert set(texts) == keys, lang
        assert all(v.strip() for v in texts.values()), lang
        if lang != "en":
            assert texts["title"] != TEXTS["en"]["title"], lang
    assert re.search("[\u0600-\u06ff]", TEXTS["ar"]["title"]) and re.search("[\u0600-\u06ff]", TEXTS["fa"]["title"])
    assert re.search("[\u1200-\u137f]", TEXTS["ti"]["title"]) and re.search("[\u0400-\u04ff]", TEXTS["uk"]["title"])


def test_staff_pages_are_in_swedish(client, db, family, caseworker):
    card = _issue(family, db)
    page = client.get(f"/cards/family/{family.id}").text
    assert "Välkommenkort" in page and "Utfärda kort" in page
    page = client.get(f"/cards/{card.id}").text
    assert "Stäng av" in page and "Återkalla" in page and "Kortet som PDF" in page
    assert "Publik nyckel" in client.get("/cards/key").text


def test_reissue_with_a_new_end_date_after_the_permit_decision(client, db, family, caseworker):
    card = _issue(family, db)
    family.permit_decided_on = clock.today()
    db.session.commit()
    page = client.get(f"/cards/{card.id}").text
    assert "Ersätt efter förlust" in page and 'name="valid_until"' in page
    resp = client.post(f"/cards/{card.id}/reissue", data={"valid_until": "2001-01-01"})
    assert resp.status_code == 302
    db.session.refresh(card)
    assert card.status == "active"  # refused: nothing changed
    resp = client.post(f"/cards/{card.id}/reissue", data={"valid_until": "not a date"})
    assert resp.status_code == 302 and card.status == "active"
    until = clock.today() + dt.timedelta(days=90)
    resp = client.post(f"/cards/{card.id}/reissue", data={"valid_until": until.isoformat()})
    assert resp.status_code == 302
    new = db.session.scalar(sa.select(WelcomeCard).where(WelcomeCard.replaces_id == card.id))
    assert new.valid_until == until and svc.verify(svc.make_token(new)).verdict == svc.Verdict.VALID
    assert svc.verify(svc.make_token(card)).verdict == svc.Verdict.NOT_VALID
