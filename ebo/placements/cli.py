"""The retention command: `flask --app ebo purge [--today YYYY-MM-DD]`."""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask

from ebo import clock
from ebo.extensions import db
from ebo.models import MunicipalitySettings
from ebo.services import retention


def init_app(app: Flask) -> None:
    """Register the placements commands."""
    app.cli.add_command(purge_command)


@click.command("purge")
@click.option("--today", "today_", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Count the retention period back from this date (default: today).")
def purge_command(today_: dt.datetime | None) -> None:
    """Pseudonymise families whose placement ended more than the retention period ago."""

    day = today_.date() if today_ else clock.today()
    months = MunicipalitySettings.get().retention_months
    try:
        n = retention.purge(day, months)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Pseudonymised {n} families (retention {months} months, back from {day.isoformat()}).")
