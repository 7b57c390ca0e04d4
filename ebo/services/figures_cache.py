"""Figures over the whole municipality, kept for a short while: a busy page does not count 50,000 hosts
on every view.

Used for the preparedness dashboard's figures, a run's preview (who would take part), the
placements overview and the staff home pages' figures and to-do counts. A figure is
computed by one thread at a time in a process and kept for FIGURES_CACHE_SECONDS (0 turns the cache
off). A commit in this process that wrote any of the tables the figures are counted from drops every
kept figure at once, so whoever changed the data sees the change on their next page; the other
processes see it within FIGURES_CACHE_SECONDS. A figure whose computation overlapped such a commit is
not kept. Thread-safe (gunicorn's gthread workers).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

T = TypeVar("T")

# The tables the kept figures are counted from: a commit writing one of them drops the figures.
WATCHED = frozenset({
    "host_households", "families", "family_members", "placements", "proposals", "housing_units", "schools",
    "forbidden_pairs", "municipality_settings", "welcome_cards", "follow_up_visits",
    "users",  # the admin's home counts active accounts by role
})
_WRITTEN = "ebo_figures_written"

_lock = threading.Lock()  # guards _entries, _name_locks and _generation
_entries: dict[tuple, tuple[float, object]] = {}
_name_locks: dict[str, threading.Lock] = {}
_generation = 0


def cached(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """The figure `name` for `key`: kept while fresh, else computed (by one thread at a time) and kept."""
    ttl = float(current_app.config.get("FIGURES_CACHE_SECONDS") or 0)
    if ttl <= 0:
        return compute()
    full = (id(current_app._get_current_object()), name, key)
    hit = _entries.get(full)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]  # type: ignore[return-value]
    with _lock:
        name_lock = _name_locks.setdefault(name, threading.Lock())
    with name_lock:  # the other threads wanting it wait for this one's result
        hit = _entries.get(full)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]  # type: ignore[return-value]
        generation = _generation
        value = compute()
        with _lock:
            if generation == _generation:  # nothing the figure depends on was committed meanwhile
                now = time.monotonic()
                for k in [k for k, (until, _v) in _entries.items() if until <= now]:
                    del _entries[k]
                _entries[full] = (now + ttl, value)
        return value


def invalidate() -> None:
    """Drop every kept figure (in this process)."""
    global _generation
    with _lock:
        _entries.clear()
        _generation += 1


def _note(session: Session, tables) -> None:
    written = tables & WATCHED
    if written:
        session.info.setdefault(_WRITTEN, set()).update(written)


@sa.event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context) -> None:
    tables = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__table__", None)
        if table is not None:
            tables.add(table.name)
    _note(session, tables)


@sa.event.listens_for(Session, "do_orm_execute")
def _on_execute(state) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if table is not None and getattr(table, "name", None):
            _note(state.session, {table.name})


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the outer transaction has not committed yet
    if session.info.pop(_WRITTEN, None):
        invalidate()


@sa.event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_WRITTEN, None)
