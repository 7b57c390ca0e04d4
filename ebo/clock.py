"""The one clock of the application: "now" in UTC and "today" in Sweden."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SWEDEN = ZoneInfo("Europe/Stockholm")


def now() -> dt.datetime:
    """The current moment as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in Sweden (Europe/Stockholm), whatever the server's time zone."""
    return now().astimezone(SWEDEN).date()
