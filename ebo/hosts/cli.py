"""Host commands, run daily (cron or a systemd timer): reconfirmation reminders, expiry of unanswered proposals."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from ebo import clock
from ebo.extensions import db
from ebo.services.proposals import expire_overdue
from ebo.services.reminders import send_reconfirmation_reminders

today_option = click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Pretend today is this date (YYYY-MM-DD); for tests and catching up.",
)


@click.command("send-reminders")
@today_option
@with_appcontext
def send_reminders_command(today: dt.datetime | None) -> None:
    """Email every host whose offer needs reconfirmation within 30 days (each reminder once)."""
    day = today.date() if today else clock.today()
    try:
        n = send_reconfirmation_reminders(day)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Sent {n} reconfirmation reminder(s).")


@click.group("proposals")
def proposals_group() -> None:
    """Proposals sent to hosts: expire those not answered in time."""


@proposals_group.command("expire")
@today_option
@with_appcontext
def expire_proposals_command(today: dt.datetime | None) -> None:
    """Expire the sent proposals whose host did not answer by the deadline (run daily; the pages do it too)."""
    try:
        n = expire_overdue(today.date() if today else clock.today())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Expired {n} proposal(s) not answered in time.")
