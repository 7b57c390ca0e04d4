"""Welcome cards: issue, suspend, resume, reissue, withdraw; signed tokens; encrypted photos; figures.

The token in a card's QR code is ``base64url(version ‖ card id ‖ valid-until day ‖ Ed25519 signature)``:
it names no person. The signing key and the photo key come from dedicated settings
(``CARD_SIGNING_KEY``, ``CARD_PHOTO_KEY``) or are derived from ``SECRET_KEY`` with HKDF.

Over 400 lines on purpose: the card's lifecycle, its signed token and its encrypted photo are one
security boundary (docs/cards.md), kept together so that a reviewer reads it in one place.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import secrets
import struct
import uuid
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l

from ebo import clock
from ebo.extensions import db
from ebo.models.card import CARD_LANGUAGES, CardPartner, CardPhoto, CardStatus, PartnerKind, WelcomeCard
from ebo.services import audit

TOKEN_VERSION = 1
TOKEN_CONTEXT = b"ebo-welcome-card/1"  # signed together with the token body, so a signature means only this
_BODY = struct.Struct(">B16sI")  # version, card id, valid-until (proleptic ordinal day)
SIGNATURE_LEN = 64
NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_SIDE = 600
PHOTO_MAX_PIXELS = 40_000_000  # refuse giant pictures before decoding them
DEFAULT_GRACE_DAYS = 90
DEFAULT_DAYS_WITHOUT_DECISION = 365
LIVE = (CardStatus.ACTIVE, CardStatus.SUSPENDED)


class CardError(Exception):
    """A card action that cannot be done; the message is shown to the caseworker."""

    def __init__(self, message) -> None:
        """Keep the (translated, lazy) message."""
        super().__init__(str(message))
        self.message = message


class Verdict(StrEnum):
    """What the verification page says about a token."""

    VALID = "valid"
    NOT_VALID = "not_valid"
    SUSPENDED = "suspended"
    EXPIRED = "expired"


@dataclass
class Verification:
    """The outcome of checking a token: the verdict and, for a real card, the card."""

    verdict: Verdict
    card: WelcomeCard | None = None


# --------------------------------------------------------------------------- keys


def _derive(info: bytes) -> bytes:
    """32 bytes derived from SECRET_KEY for one purpose."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ebo-cards", info=info).derive(secret)


def _decode_key_setting(raw: str) -> bytes:
    """A 32-byte key given as 64 hex digits or base64 (url-safe or not)."""
    raw = raw.strip()
    try:
        if len(raw) == 64:
            return bytes.fromhex(raw)
        data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (ValueError, binascii.Error) as e:
        raise RuntimeError("CARD_SIGNING_KEY must be 32 bytes in hex or base64") from e
    if len(data) != 32:
        raise RuntimeError("CARD_SIGNING_KEY must be 32 bytes in hex or base64")
    return data


def signing_key() -> Ed25519PrivateKey:
    """The municipality's Ed25519 card-signing key (CARD_SIGNING_KEY, else derived from SECRET_KEY)."""
    cache = current_app.extensions.setdefault("ebo_cards", {})
    key = cache.get("signing")
    if key is None:
        raw = current_app.config.get("CARD_SIGNING_KEY")
        seed = _decode_key_setting(raw) if raw else _derive(b"card-signing-key")
        key = cache["signing"] = Ed25519PrivateKey.from_private_bytes(seed)
    return key


def public_key() -> Ed25519PublicKey:
    """The public half of the signing key, which partners use to verify offline."""
    return signing_key().public_key()


def public_key_pem() -> str:
    """The public key in PEM (SubjectPublicKeyInfo)."""
    return public_key().public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_key_raw_b64() -> str:
    """The raw 32-byte public key in base64url without padding."""
    raw = public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_id() -> str:
    """A short fingerprint of the public key (first 16 hex digits of its SHA-256)."""
    raw = public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _fernet() -> Fernet:
    """The photo cipher (CARD_PHOTO_KEY, a Fernet key, else derived from SECRET_KEY)."""
    cache = current_app.extensions.setdefault("ebo_cards", {})
    f = cache.get("fernet")
    if f is None:
        raw = current_app.config.get("CARD_PHOTO_KEY")
        key = raw.encode() if raw else base64.urlsafe_b64encode(_derive(b"card-photo-key"))
        f = cache["fernet"] = Fernet(key)
    return f


# --------------------------------------------------------------------------- tokens


def make_token(card: WelcomeCard) -> str:
    """The signed token for a card: card id and validity end, no name."""
    body = _BODY.pack(TOKEN_VERSION, card.id.bytes, card.valid_until.toordinal())
    sig = signing_key().sign(TOKEN_CONTEXT + body)
    return base64.urlsafe_b64encode(body + sig).rstrip(b"=").decode()


def read_token(token: str) -> tuple[uuid.UUID, dt.date] | None:
    """The card id and validity end of a correctly signed token, else None."""
    if not token or len(token) > 200:
        return None
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, binascii.Error):
        return None
    if len(data) != _BODY.size + SIGNATURE_LEN:
        return None
    body, sig = data[:_BODY.size], data[_BODY.size:]
    try:
        public_key().verify(sig, TOKEN_CONTEXT + body)
    except InvalidSignature:
        return None
    version, card_id, day = _BODY.unpack(body)
    if version != TOKEN_VERSION:
        return None
    try:
        return uuid.UUID(bytes=card_id), dt.date.fromordinal(day)
    except ValueError:
        return None


def verify(token: str, today: dt.date | None = None) -> Verification:
    """Check a token against the register: valid, suspended, expired or not valid (revocation is immediate)."""
    read = read_token(token)
    if read is None:
        return Verification(Verdict.NOT_VALID)
    card_id, until = read
    card = db.session.get(WelcomeCard, card_id)
    if card is None or card.valid_until != until or card.status in (CardStatus.REPLACED, CardStatus.WITHDRAWN):
        return Verification(Verdict.NOT_VALID)
    today = today or clock.today()
    if card.valid_until < today:
        return Verification(Verdict.EXPIRED, card)
    if card.status == CardStatus.SUSPENDED:
        return Verification(Verdict.SUSPENDED, card)
    return Verification(Verdict.VALID, card)


def revoked_ids(today: dt.date | None = None) -> list[str]:
    """Ids of cards not yet expired that no longer work (suspended, replaced, withdrawn): the offline list."""
    today = today or clock.today()
    return [str(i) for i in db.session.scalars(
        sa.select(WelcomeCard.id).where(WelcomeCard.status != CardStatus.ACTIVE,
                                        WelcomeCard.valid_until >= today).order_by(WelcomeCard.id))]


# --------------------------------------------------------------------------- photos


def prepare_photo(data: bytes) -> bytes:
    """A photo as a small JPEG without metadata (EXIF, location); CardError if it is not a picture."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise CardError(_l("The photo file is empty."))
    if len(data) > PHOTO_MAX_BYTES:
        raise CardError(_l("The photo is too large (at most 5 MB)."))
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("JPEG", "PNG", "WEBP"):
                raise CardError(_l("The photo must be a JPEG, PNG or WebP picture."))
            if img.width * img.height > PHOTO_MAX_PIXELS:
                raise CardError(_l("The photo is too large (at most 5 MB)."))
            img = ImageOps.exif_transpose(img).convert("RGB")
            img.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            out = io.BytesIO()
            img.save(out, "JPEG", quality=85)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
        raise CardError(_l("The photo could not be read as a picture.")) from e
    return out.getvalue()


def set_photo(card: WelcomeCard, jpeg: bytes | None) -> None:
    """Store (encrypted) or remove a card's photo."""
    if card.photo is not None:
        db.session.delete(card.photo)
        db.session.flush()
        card.photo = None
    if jpeg:
        card.photo = CardPhoto(content_type="image/jpeg", data=_fernet().encrypt(jpeg))


def photo_bytes(card: WelcomeCard, actor=None, purpose: str = "view") -> bytes | None:
    """The decrypted photo of a card, or None; each reading by staff is audited."""
    if card.photo is None:
        return None
    try:
        data = _fernet().decrypt(card.photo.data)
    except InvalidToken:
        current_app.logger.error("card photo %s cannot be decrypted (key changed?)", card.id)
        return None
    if actor is not None:
        audit.record("card_photo_view", "welcome_card", card.id, {"purpose": purpose}, actor=actor)
    return data


def photo_data_uri(card: WelcomeCard, actor=None, purpose: str = "view") -> str | None:
    """The photo as a data: URI for an <img> (never a file in the web root)."""
    data = photo_bytes(card, actor, purpose)
    return None if data is None else "data:image/jpeg;base64," + base64.b64encode(data).decode()


# --------------------------------------------------------------------------- lifecycle


def new_number() -> str:
    """A random card number such as "K7Q4-9XMR-2TWD" (unique; no meaning)."""
    while True:
        raw = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(12))
        number = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        if db.session.scalar(sa.select(WelcomeCard.id).where(WelcomeCard.number == number)) is None:
            return number


def default_valid_until(family, today: dt.date | None = None) -> dt.date:
    """Permit decision + grace period (CARD_GRACE_DAYS), or a set period (CARD_DAYS_WITHOUT_DECISION)."""
    today = today or clock.today()
    cfg = current_app.config
    if family.permit_decided_on is not None:
        return family.permit_decided_on + dt.timedelta(days=int(cfg.get("CARD_GRACE_DAYS", DEFAULT_GRACE_DAYS)))
    return today + dt.timedelta(days=int(cfg.get("CARD_DAYS_WITHOUT_DECISION", DEFAULT_DAYS_WITHOUT_DECISION)))


def live_card(member_id) -> WelcomeCard | None:
    """The member's active or suspended card, if any."""
    return db.session.scalar(sa.select(WelcomeCard).where(WelcomeCard.member_id == member_id,
                                                          WelcomeCard.status.in_(list(LIVE)))
                             .order_by(WelcomeCard.created_at.desc()).limit(1))


def family_cards(family_id) -> list[WelcomeCard]:
    """Every card of a family, newest first."""
    return list(db.session.scalars(sa.select(WelcomeCard).where(WelcomeCard.family_id == family_id)
                                   .order_by(WelcomeCard.created_at.desc())))


def issue(member, first_name: str, language: str, valid_until: dt.date | None, photo: bytes | None,
          actor, today: dt.date | None = None) -> WelcomeCard:
    """Issue a card to a family member (one working card per person at a time)."""
    family = member.family
    today = today or clock.today()
    if family.pseudonymised_at is not None:
        raise CardError(_l("This family's data has been erased."))
    first_name = (first_name or "").strip()
    if not first_name:
        raise CardError(_l("Enter the first name to print on the card."))
    if language not in CARD_LANGUAGES:
        raise CardError(_l("Choose a language for the card."))
    if live_card(member.id) is not None:
        raise CardError(_l("This person already has a card. Reissue or withdraw it first."))
    until = valid_until or default_valid_until(family, today)
    if until < today:
        raise CardError(_l("The validity would already have ended. Choose a later date."))
    jpeg = prepare_photo(photo) if photo else None
    card = WelcomeCard(number=new_number(), family_id=family.id, member_id=member.id, first_name=first_name[:80],
                       language=language, valid_from=today, valid_until=until, status=CardStatus.ACTIVE,
                       issued_by=getattr(actor, "id", None))
    db.session.add(card)
    db.session.flush()
    set_photo(card, jpeg)
    db.session.flush()
    audit.record("card_issue", "welcome_card", card.id, {"family": str(family.id), "photo": bool(jpeg)},
                 actor=actor)
    return card


def _change(card: WelcomeCard, status: CardStatus, action: str, actor, allowed: tuple[CardStatus, ...]) -> None:
    if CardStatus(card.status) not in allowed:
        raise CardError(_l("That cannot be done with this card now."))
    card.status = status
    card.status_changed_at = clock.now()
    db.session.flush()
    audit.record(action, "welcome_card", card.id, actor=actor)


def suspend(card: WelcomeCard, actor) -> None:
    """Pause a card: verification says "suspended" at once."""
    _change(card, CardStatus.SUSPENDED, "card_suspend", actor, (CardStatus.ACTIVE,))


def resume(card: WelcomeCard, actor) -> None:
    """Let a suspended card work again."""
    _change(card, CardStatus.ACTIVE, "card_resume", actor, (CardStatus.SUSPENDED,))


def withdraw(card: WelcomeCard, actor) -> None:
    """Withdraw a card for good (the person has left the municipality)."""
    _change(card, CardStatus.WITHDRAWN, "card_withdraw", actor, LIVE)


def reissue(card: WelcomeCard, actor, today: dt.date | None = None, valid_until: dt.date | None = None) -> WelcomeCard:
    """Replace a card (lost, or a new end date): the old one stops at once; the new one has a new number and token."""
    today = today or clock.today()
    if valid_until is not None and valid_until < today:
        raise CardError(_l("The validity would already have ended. Choose a later date."))
    _change(card, CardStatus.REPLACED, "card_replace", actor, LIVE)
    new = WelcomeCard(number=new_number(), family_id=card.family_id, member_id=card.member_id,
                      first_name=card.first_name, language=card.language, valid_from=today,
                      valid_until=valid_until or max(card.valid_until, today), status=CardStatus.ACTIVE,
                      replaces_id=card.id, issued_by=getattr(actor, "id", None))
    db.session.add(new)
    db.session.flush()
    if card.photo is not None:
        new.photo = CardPhoto(content_type=card.photo.content_type, data=card.photo.data)
    db.session.flush()
    audit.record("card_reissue", "welcome_card", new.id, {"replaces": str(card.id)}, actor=actor)
    return new


def erase_for_family(family_id) -> int:
    """Retention: delete the photos and first names of a family's cards and withdraw them (counts stay)."""
    ids = sa.select(WelcomeCard.id).where(WelcomeCard.family_id == family_id)
    db.session.execute(sa.delete(CardPhoto).where(CardPhoto.card_id.in_(ids))
                       .execution_options(synchronize_session=False))
    result = db.session.execute(
        sa.update(WelcomeCard).where(WelcomeCard.family_id == family_id)
        .values(first_name="", status=sa.case((WelcomeCard.status == CardStatus.ACTIVE,
                                               CardStatus.WITHDRAWN),
                                              (WelcomeCard.status == CardStatus.SUSPENDED,
                                               CardStatus.WITHDRAWN), else_=WelcomeCard.status))
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


# --------------------------------------------------------------------------- partners


def partners(active_only: bool = True) -> list[CardPartner]:
    """The card partners in display order."""
    q = sa.select(CardPartner).order_by(CardPartner.position, CardPartner.name)
    if active_only:
        q = q.where(CardPartner.active.is_(True))
    return list(db.session.scalars(q))


def save_partner(partner: CardPartner | None, name: str, kind: str, benefit: str, active: bool, position: int,
                 actor) -> CardPartner:
    """Add or change a card partner (audited)."""
    if kind not in set(PartnerKind):
        raise CardError(_l("Choose what kind of partner this is."))
    if partner is None:
        partner = CardPartner()
        db.session.add(partner)
    partner.name, partner.kind, partner.benefit = name.strip(), kind, benefit.strip()
    partner.active, partner.position = bool(active), int(position or 0)
    db.session.flush()
    audit.record("card_partner_save", "card_partner", partner.id, actor=actor)
    return partner


# --------------------------------------------------------------------------- figures


def figures(today: dt.date | None = None) -> dict[str, int]:
    """Cards issued (all time), active, suspended and expired (working or paused cards past their end)."""
    today = today or clock.today()
    c = WelcomeCard
    row = db.session.execute(sa.select(
        sa.func.count(),
        sa.func.count().filter(c.status == CardStatus.ACTIVE, c.valid_until >= today),
        sa.func.count().filter(c.status == CardStatus.SUSPENDED, c.valid_until >= today),
        sa.func.count().filter(c.status.in_(list(LIVE)), c.valid_until < today),
    ).select_from(c)).one()
    return {"issued": row[0], "active": row[1], "suspended": row[2], "expired": row[3]}
