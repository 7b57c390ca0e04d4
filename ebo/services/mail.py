"""Outgoing email: every message is logged as an EmailMessage row, then sent by SMTP or written to a file.

With ``MAIL_SERVER`` set the message goes through SMTP (``MAIL_PORT``, ``MAIL_FROM``, optional
``MAIL_USE_TLS``, ``MAIL_USERNAME``/``MAIL_PASSWORD``). Without it (development, the demo) it is written
as an ``.eml`` file under ``MAIL_OUTBOX_DIR`` or ``instance/outbox/``. A delivery failure is recorded on
the row and logged; it never fails the request that triggered it.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale

from ebo.extensions import db
from ebo.models import EmailMessage
from ebo.models.types import utcnow

log = logging.getLogger(__name__)


def recipient_locale(user) -> str:
    """The language to write to `user` in: their saved preference, else the default language."""
    languages = current_app.config["LANGUAGES"]
    locale = getattr(user, "locale", None)
    return locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an email, also outside a request (``BASE_URL`` config, else localhost)."""
    if has_request_context() and not current_app.config.get("BASE_URL"):
        return url_for(endpoint, _external=True, **values)
    base = current_app.config.get("BASE_URL") or "http://localhost:5000"
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def send(to: str, subject, template: str, *, kind: str | None = None, locale: str | None = None, **ctx) -> EmailMessage:
    """Render `mail/<template>.html` (plain text) in `locale`, log it and deliver it; return the row."""
    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        subject_text = str(subject)[:200]
        body = render_template(f"mail/{template}.html", **ctx)
    row = EmailMessage(to_addr=to, subject=subject_text, body=body, kind=(kind or template)[:40])
    db.session.add(row)
    db.session.flush()
    message = _mime(row, locale)
    try:
        if current_app.config.get("MAIL_SERVER"):
            _send_smtp(message)
        else:
            _write_outbox(message, row)
        row.sent_at = utcnow()
    except (OSError, smtplib.SMTPException) as e:
        row.error = f"{type(e).__name__}: {e}"[:1000]
        log.warning("email %s (%s) not delivered: %s", row.id, row.kind, type(e).__name__)
    return row


def _mime(row: EmailMessage, locale: str) -> MimeMessage:
    msg = MimeMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(
        idstring=row.id.hex, domain=current_app.config["MAIL_FROM"].rpartition("@")[2] or "localhost"
    )
    msg["Content-Language"] = locale
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.body)
    return msg


def _send_smtp(message: MimeMessage) -> None:
    cfg = current_app.config
    with smtplib.SMTP(
        cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT") or 25), timeout=float(cfg.get("MAIL_TIMEOUT_S", 10))
    ) as smtp:
        if str(cfg.get("MAIL_USE_TLS") or "").strip().lower() in {"1", "true", "yes", "on"}:
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def outbox_dir() -> Path:
    """The folder where messages are written when no SMTP server is configured."""
    configured = current_app.config.get("MAIL_OUTBOX_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "outbox"


def _write_outbox(message: MimeMessage, row: EmailMessage) -> None:
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    (folder / f"{stamp}-{row.kind}-{row.id.hex[:12]}.eml").write_bytes(message.as_bytes())
