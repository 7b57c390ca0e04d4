"""Shared column types and helpers for the models.

Conventions every model follows (see ``ebo/models/__init__.py``):

* UUID primary keys (opaque ids in URLs), except ``AuditEvent`` (big integer).
* Datetimes are stored as naive UTC by :class:`UTCDateTime` and come back tz-aware UTC, the same on
  SQLite and PostgreSQL; plain dates use ``sa.Date``.
* Enumerations are short strings (``sa.String(20)``) with a ``StrEnum`` in the model file and a named
  CHECK constraint built by :func:`enum_check`; no ``sa.Enum``, so PostgreSQL has no enum types to migrate.
"""

from __future__ import annotations

import calendar
import uuid
from datetime import UTC, date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from ebo import clock

#: Length of every enumeration column.
ENUM_LENGTH = 20


def utcnow() -> datetime:
    """Return the current time as a tz-aware UTC datetime (the application's one clock)."""
    return clock.now()


def add_months(day: date, months: int) -> date:
    """Return ``day`` shifted by ``months`` calendar months, clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def start_of_day_utc(day: date) -> datetime:
    """Return midnight UTC at the start of ``day`` as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A datetime stored as naive UTC and returned tz-aware UTC on every database.

    Aware values are converted to UTC before storing; naive values are taken to be UTC already.
    """

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Convert an aware datetime to naive UTC for storage."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, got {type(value).__name__}")
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Attach UTC to the naive value read back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def uuid_pk():
    """Return the standard UUID primary-key column."""
    return mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)


def created_at_column():
    """Return a non-null ``created_at`` column defaulting to now (UTC)."""
    return mapped_column(UTCDateTime, nullable=False, default=utcnow)


def updated_at_column():
    """Return a non-null ``updated_at`` column set to now on insert and on every ORM update."""
    return mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


def enum_values(enum: type[StrEnum]) -> list[str]:
    """Return the string values of a StrEnum, in declaration order."""
    return [member.value for member in enum]


def enum_check(column: str, enum: type[StrEnum], *, nullable: bool = False, name: str | None = None):
    """Return a named CHECK constraint limiting ``column`` to the values of ``enum``.

    The constraint is named ``ck_<table>_<name or column>`` by the metadata naming convention.
    """
    values = ", ".join(f"'{value}'" for value in enum_values(enum))
    expression = f"{column} IN ({values})"
    if nullable:
        expression = f"{column} IS NULL OR {expression}"
    return sa.CheckConstraint(expression, name=name or column)


def enum_column(enum: type[StrEnum], *, default: StrEnum | None = None, nullable: bool = False, **kwargs):
    """Return a ``String(20)`` column meant to hold one value of ``enum`` (pair it with enum_check)."""
    if default is not None:
        kwargs["default"] = default.value
    return mapped_column(sa.String(ENUM_LENGTH), nullable=nullable, **kwargs)


def one_of_check(first: str, second: str, name: str) -> sa.CheckConstraint:
    """Return a named CHECK constraint requiring exactly one of two nullable columns to be set."""
    return sa.CheckConstraint(
        f"({first} IS NOT NULL AND {second} IS NULL) OR ({first} IS NULL AND {second} IS NOT NULL)",
        name=name,
    )
