"""Welcome cards: caseworkers issue and manage them; partners verify them without an account."""

from __future__ import annotations

import uuid

import segno
from flask import Blueprint, abort, current_app, flash, jsonify, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ebo import clock
from ebo.cards.forms import PARTNER_KINDS, CardActionForm, IssueCardForm, PartnerForm, ReissueForm
from ebo.cards.texts import card_text, direction
from ebo.extensions import db
from ebo.models import CardPartner, Family, FamilyMember, MunicipalitySettings, WelcomeCard
from ebo.permissions import ADMIN, CASEWORKER, role_required
from ebo.security import public
from ebo.services import audit, card_pdf
from ebo.services import cards as svc

bp = Blueprint("cards", __name__)

ACTIONS = {"suspend": svc.suspend, "resume": svc.resume, "withdraw": svc.withdraw}
STATUS_NAMES = {"active": _l("active"), "suspended": _l("suspended"), "replaced": _l("replaced after loss"),
                "withdrawn": _l("withdrawn")}


def _family(family_id: uuid.UUID) -> Family:
    family = db.session.get(Family, family_id)
    if family is None or family.pseudonymised_at is not None:
        abort(404)
    return family


def _card(card_id: uuid.UUID) -> WelcomeCard:
    card = db.session.get(WelcomeCard, card_id)
    if card is None or not card.first_name:
        abort(404)
    return card


def _verify_url(card: WelcomeCard) -> str:
    path = url_for("cards.verify", token=svc.make_token(card))
    base = current_app.config.get("BASE_URL")
    return base.rstrip("/") + path if base else url_for("cards.verify", token=svc.make_token(card), _external=True)


def _partners() -> list[CardPartner]:
    return svc.partners(active_only=True)


def card_view(card: WelcomeCard, actor=None, purpose: str = "view") -> dict:
    """Everything a card template shows, in the card's language (photo reading audited for staff)."""
    url = _verify_url(card)
    token = svc.make_token(card)
    return {
        "card": card, "t": card_text(card.language), "lang": card.language, "dir": direction(card.language),
        "photo": svc.photo_data_uri(card, actor, purpose), "verify_url": url,
        "phone_url": url_for("cards.phone", token=token, _external=True),
        "qr": segno.make(url, error="m").svg_data_uri(scale=4, border=2),
        "partners": _partners(), "municipality": MunicipalitySettings.get().name or "",
    }


# --------------------------------------------------------------------------- caseworkers


@bp.route("/family/<uuid:family_id>")
@role_required(CASEWORKER)
def family(family_id: uuid.UUID, forms: dict | None = None, status: int = 200):
    """A family's members and their welcome cards, with a form to issue a card to each person."""
    fam = _family(family_id)
    cards = svc.family_cards(fam.id)
    by_member: dict = {}
    for c in cards:
        by_member.setdefault(c.member_id, []).append(c)
    forms = forms or {}
    for m in fam.members:
        if m.id not in forms and not any(c.status in svc.LIVE for c in by_member.get(m.id, [])):
            language = next((code for code in fam.languages or [] if code in svc.CARD_LANGUAGES), "sv")
            forms[m.id] = IssueCardForm(formdata=None, first_name=m.first_name or "", language=language)
    audit.record("card_list_view", "family", fam.id)
    return render_template("cards/family.html", family=fam, by_member=by_member, forms=forms,
                           default_until=svc.default_valid_until(fam), status_names=STATUS_NAMES), status


@bp.route("/family/<uuid:family_id>/member/<uuid:member_id>/issue", methods=["POST"])
@role_required(CASEWORKER)
def issue(family_id: uuid.UUID, member_id: uuid.UUID):
    """Issue a card to one member of the family."""
    fam = _family(family_id)
    member = db.session.get(FamilyMember, member_id)
    if member is None or member.family_id != fam.id:
        abort(404)
    form = IssueCardForm()
    if form.validate_on_submit():
        upload = form.photo.data
        photo = upload.read(svc.PHOTO_MAX_BYTES + 1) if upload and getattr(upload, "filename", "") else None
        try:
            card = svc.issue(member, form.first_name.data, form.language.data, form.valid_until.data, photo,
                             current_user)
        except svc.CardError as e:
            form.form_errors.append(str(e.message))
        else:
            flash(_("The card %(number)s was issued.", number=card.number), "success")
            return redirect(url_for("cards.card", card_id=card.id))
    return family(family_id, forms={member.id: form}, status=400)


@bp.route("/<uuid:card_id>")
@role_required(CASEWORKER)
def card(card_id: uuid.UUID):
    """One card: front, back and phone version, the PDF, and the actions."""
    c = _card(card_id)
    audit.record("card_view", "welcome_card", c.id)
    family = db.session.get(Family, c.family_id)
    return render_template("cards/card.html", v=card_view(c, current_user, "card"), form=CardActionForm(),
                           reissue_form=ReissueForm(), default_until=svc.default_valid_until(family),
                           status_names=STATUS_NAMES, live=c.status in svc.LIVE)


@bp.route("/<uuid:card_id>/print")
@role_required(CASEWORKER)
def print_card(card_id: uuid.UUID):
    """The card at credit-card size, front and back, for printing from the browser."""
    c = _card(card_id)
    audit.record("card_print", "welcome_card", c.id)
    return render_template("cards/print.html", v=card_view(c, current_user, "print"))


@bp.route("/<uuid:card_id>/card.pdf")
@role_required(CASEWORKER)
def pdf(card_id: uuid.UUID):
    """The card as a PDF made on the server (front and back)."""
    c = _card(card_id)
    content = card_pdf.CardContent(
        language=c.language, first_name=c.first_name, valid_until=c.valid_until.isoformat(), number=c.number,
        municipality=MunicipalitySettings.get().name or "", verify_url=_verify_url(c),
        photo_jpeg=svc.photo_bytes(c, current_user, "pdf"),
        partners=[(p.kind, p.name, p.benefit) for p in _partners()])
    try:
        data = card_pdf.render(content)
    except card_pdf.CardFontMissing as e:
        current_app.logger.error("%s", e)
        return render_template("error.html", code=503, message=_(
            "The card PDF cannot be made because the card fonts are missing on the server. "
            "Ask the administrator to install them.")), 503
    audit.record("card_pdf", "welcome_card", c.id)
    resp = make_response(data)
    resp.headers["Content-Type"] = "application/pdf"
    resp.headers["Content-Disposition"] = f'inline; filename="card-{c.number}.pdf"'
    return resp


@bp.route("/<uuid:card_id>/<any(suspend,resume,reissue,withdraw):action>", methods=["POST"])
@role_required(CASEWORKER)
def act(card_id: uuid.UUID, action: str):
    """Suspend, resume, reissue (after loss) or withdraw a card."""
    c = _card(card_id)
    form = ReissueForm() if action == "reissue" else CardActionForm()
    if not form.validate_on_submit():
        flash(_("Enter a date such as 2027-06-30, or leave it empty."), "error")
        return redirect(url_for("cards.card", card_id=c.id))
    try:
        if action == "reissue":
            new = svc.reissue(c, current_user, valid_until=form.valid_until.data)
            flash(_("A new card %(number)s was issued. The old card no longer works.", number=new.number),
                  "success")
            return redirect(url_for("cards.card", card_id=new.id))
        ACTIONS[action](c, current_user)
    except svc.CardError as e:
        flash(str(e.message), "error")
        return redirect(url_for("cards.card", card_id=c.id))
    messages = {"suspend": _("The card is suspended."), "resume": _("The card works again."),
                "withdraw": _("The card is withdrawn.")}
    flash(messages[action], "success")
    return redirect(url_for("cards.card", card_id=c.id))


# --------------------------------------------------------------------------- partners (administrators)


@bp.route("/partners", methods=["GET", "POST"])
@role_required(ADMIN)
def partners():
    """The card partners and what the card gives at each; a form to add one."""
    form = PartnerForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            svc.save_partner(None, form.name.data, form.kind.data, form.benefit.data, form.active.data,
                             form.position.data, current_user)
            flash(_("The partner was saved."), "success")
            return redirect(url_for("cards.partners"))
        status = 400
    return render_template("cards/partners.html", rows=svc.partners(active_only=False), form=form,
                           kinds=PARTNER_KINDS), status


@bp.route("/partners/<uuid:partner_id>", methods=["GET", "POST"])
@role_required(ADMIN)
def partner(partner_id: uuid.UUID):
    """Change a card partner."""
    row = db.session.get(CardPartner, partner_id)
    if row is None:
        abort(404)
    form = PartnerForm(obj=row)
    if form.validate_on_submit():
        svc.save_partner(row, form.name.data, form.kind.data, form.benefit.data, form.active.data,
                         form.position.data, current_user)
        flash(_("The partner was saved."), "success")
        return redirect(url_for("cards.partners"))
    return render_template("cards/partner.html", form=form, row=row), 400 if form.is_submitted() else 200


# --------------------------------------------------------------------------- public


VERDICTS = {
    svc.Verdict.VALID: _l("Valid"),
    svc.Verdict.NOT_VALID: _l("Not valid"),
    svc.Verdict.SUSPENDED: _l("Suspended"),
    svc.Verdict.EXPIRED: _l("Expired"),
}


@bp.route("/v/<token>")
@public
def verify(token: str):
    """The public verification page: valid or not, and for a valid card the first name, photo and access."""
    result = svc.verify(token)
    c = result.card if result.verdict == svc.Verdict.VALID else None
    photo = svc.photo_data_uri(c) if c is not None else None
    return render_template("cards/verify.html", verdict=result.verdict, verdicts=VERDICTS, card=c, photo=photo,
                           partners=_partners() if c is not None else [], kinds=PARTNER_KINDS)


@bp.route("/m/<token>")
@public
def phone(token: str):
    """The phone version of a card, in the cardholder's language (opened from the link the person is given)."""
    result = svc.verify(token)
    if result.card is None:
        return render_template("cards/verify.html", verdict=result.verdict, verdicts=VERDICTS, card=None, photo=None,
                               partners=[],
                               kinds=PARTNER_KINDS), 404
    return render_template("cards/phone.html", v=card_view(result.card), verdict=result.verdict)


@bp.route("/key")
@public
def key():
    """The municipality's public key for verifying cards offline, and how to do it."""
    return render_template("cards/key.html", pem=svc.public_key_pem(), raw=svc.public_key_raw_b64(),
                           key_id=svc.key_id())


@bp.route("/revoked.json")
@public
def revoked():
    """Ids of unexpired cards that no longer work, for partners who verify offline (no personal data)."""
    return jsonify({"key_id": svc.key_id(), "generated_at": clock.now().isoformat(),
                    "revoked": svc.revoked_ids()})
