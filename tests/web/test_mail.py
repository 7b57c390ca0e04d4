"""Email: through a real SMTP server started by the test (aiosmtpd), or to instance/outbox without one."""

from __future__ import annotations

import socket
import time
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import sqlalchemy as sa

from ebo.models import EmailMessage
from ebo.services import mail


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_message_arrives_at_a_real_smtp_server(app, db, smtp_server):
    port, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="ebo@kommun.example")
    try:
        with app.test_request_context():
            row = mail.send(
                "host@example.se",
                "Subject ÅÄÖ",
                "approved",
                kind="host_approved",
                locale="en",
                household=type("H", (), {"contact_name": "Karin & Åke <x>"})(),
                link="http://x/host/",
            )
        assert row.sent_at is not None and row.error is None
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25, MAIL_FROM="ebo@localhost")
    for _ in range(50):
        if inbox.messages:
            break
        time.sleep(0.05)
    ((rcpts, content),) = inbox.messages
    assert rcpts == ["host@example.se"]
    msg = message_from_bytes(content, policy=default_policy)
    assert msg["Subject"] == "Subject ÅÄÖ" and msg["From"] == "ebo@kommun.example"
    assert "Karin & Åke <x>" in msg.get_content() and "http://x/host/" in msg.get_content()
    assert db.session.scalar(sa.select(EmailMessage)).kind == "host_approved"


def test_unreachable_server_is_recorded_not_raised(app, db):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port(), MAIL_TIMEOUT_S=2)
    try:
        with app.test_request_context():
            row = mail.send("host@example.se", "Hi", "approved", household={"contact_name": "K"}, link="x")
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    assert row.sent_at is None and row.error


def test_without_smtp_the_message_goes_to_the_outbox_folder(app, db):
    with app.test_request_context():
        row = mail.send("host@example.se", "Hej", "approved", household={"contact_name": "K"}, link="x")
        folder = mail.outbox_dir()
    files = list(folder.glob(f"*{row.id.hex[:12]}.eml"))
    assert len(files) == 1 and folder.parent == __import__("pathlib").Path(app.instance_path)
    assert b"host@example.se" in files[0].read_bytes()


def test_registration_mail_reaches_smtp(app, db, client, smtp_server):
    from tests.web.test_hosts_register import make_host

    port, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        make_host(db, client)
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    for _ in range(50):
        if inbox.messages:
            break
        time.sleep(0.05)
    assert inbox.messages and inbox.messages[0][0] == ["karin.ek@example.se"]
