"""Yearly reconfirmation: a reminder goes out once, 30 days before an offer would leave matching."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from ebo.extensions import db
from ebo.models import HostHousehold, HostState, VettingStatus
from ebo.models.types import add_months, start_of_day_utc, utcnow
from ebo.services import host_data, hosts


def due_for_reminder(today: date) -> list[HostHousehold]:
    """Active, not rejected offers due for reconfirmation within 30 days (or overdue), not yet reminded."""
    months = hosts.reconfirm_months()
    # due = last + months <= today + 30 days  <=>  last < the day after (today + 30 days - months)
    cutoff = start_of_day_utc(
        add_months(today + timedelta(days=hosts.REMINDER_DAYS_BEFORE), -months) + timedelta(days=1)
    )
    return list(
        db.session.scalars(
            sa.select(HostHousehold)
            .where(
                HostHousehold.state == HostState.ACTIVE.value,
                HostHousehold.vetting_status != VettingStatus.REJECTED.value,
                HostHousehold.reconfirm_reminder_sent_at.is_(None),
                HostHousehold.last_reconfirmed_at < cutoff,
                ~HostHousehold.email.like(f"%@{host_data.ERASED_DOMAIN}"),
            )
            .order_by(HostHousehold.last_reconfirmed_at)
        )
    )


def send_reconfirmation_reminders(today: date) -> int:
    """Send each due host one reminder (flushes; the caller commits); return how many were sent."""
    sent = 0
    months = hosts.reconfirm_months()
    for household in due_for_reminder(today):
        hosts.notify_reconfirmation_due(household, hosts.reconfirm_due_on(household, months))
        household.reconfirm_reminder_sent_at = utcnow()
        sent += 1
    db.session.flush()
    return sent
