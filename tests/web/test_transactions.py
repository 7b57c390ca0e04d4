"""One transaction per request: a released savepoint is still undone when the outer transaction rolls back."""

from __future__ import annotations

from ebo.models import User
from ebo.services import accounts
from tests.conftest import count


def test_outer_rollback_undoes_a_released_savepoint(db):
    with db.session.begin_nested():
        accounts.create_user("nested@example.org", "correct horse battery", "coordinator", "Nested",
                             check_policy=False)
    assert count(User) == 1  # visible inside the transaction
    db.session.rollback()
    assert count(User) == 0  # undone with the outer transaction (pysqlite alone would have committed it)


def test_rolled_back_savepoint_keeps_earlier_work(db):
    accounts.create_user("first@example.org", "correct horse battery", "coordinator", "First", check_policy=False)
    db.session.flush()
    nested = db.session.begin_nested()
    accounts.create_user("second@example.org", "correct horse battery", "coordinator", "Second",
                         check_policy=False)
    db.session.flush()
    nested.rollback()
    db.session.commit()
    assert {u.email for u in db.session.query(User)} == {"first@example.org"}
