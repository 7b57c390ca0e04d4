"""Beds that can never be double-booked: guarded updates on the host's and the unit's counters.

`UPDATE ... SET beds_used = beds_used + n WHERE id = :id AND beds_used + n <= beds` is atomic on both
databases: on PostgreSQL a concurrent update of the same row waits and then re-checks the WHERE clause
against the committed row; SQLite serialises writers. The CHECK constraints on the counters are the
last line of defence. Callers run these inside the request's single transaction.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from ebo.extensions import db


class CapacityError(Exception):
    """The host or unit has no room for this family any more."""


def reserve_host(host_id: uuid.UUID, persons: int) -> None:
    """Take `persons` beds and one family slot of a host, or raise CapacityError."""
    from ebo.models import HostHousehold as H

    result = db.session.execute(
        sa.update(H)
        .where(H.id == host_id, H.beds_used + persons <= H.beds, H.families_placed + 1 <= H.max_families)
        .values(beds_used=H.beds_used + persons, families_placed=H.families_placed + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CapacityError(str(host_id))
    _expire(H, host_id)


def release_host(host_id: uuid.UUID, persons: int) -> None:
    """Give back `persons` beds and one family slot of a host."""
    from ebo.models import HostHousehold as H

    result = db.session.execute(
        sa.update(H)
        .where(H.id == host_id, H.beds_used >= persons, H.families_placed >= 1)
        .values(beds_used=H.beds_used - persons, families_placed=H.families_placed - 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CapacityError(f"counters of host {host_id} are inconsistent")
    _expire(H, host_id)


def reserve_unit(unit_id: uuid.UUID, persons: int) -> None:
    """Take `persons` beds of a municipal unit, or raise CapacityError."""
    from ebo.models import HousingUnit as U

    result = db.session.execute(
        sa.update(U)
        .where(U.id == unit_id, U.beds_used + persons <= U.beds)
        .values(beds_used=U.beds_used + persons)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CapacityError(str(unit_id))
    _expire(U, unit_id)


def release_unit(unit_id: uuid.UUID, persons: int) -> None:
    """Give back `persons` beds of a municipal unit."""
    from ebo.models import HousingUnit as U

    result = db.session.execute(
        sa.update(U)
        .where(U.id == unit_id, U.beds_used >= persons)
        .values(beds_used=U.beds_used - persons)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CapacityError(f"counters of unit {unit_id} are inconsistent")
    _expire(U, unit_id)


def _expire(model, pk) -> None:
    """Make a loaded object re-read its counters after a Core update."""
    obj = db.session.identity_map.get(db.session.identity_key(model, pk))
    if obj is not None:
        db.session.expire(obj, ["beds_used"] + (["families_placed"] if hasattr(obj, "families_placed") else []))
