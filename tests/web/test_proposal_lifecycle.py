"""The proposal lifecycle lives next to the enum: transitions, groupings and the Proposal's can_* methods."""

from __future__ import annotations

import uuid

import pytest

from ebo.models import Proposal, ProposalState
from ebo.models.matching import (
    HOLDING_STATES,
    HOST_VISIBLE_STATES,
    OPEN_STATES,
    TRANSITIONS,
    confirmable_states,
)

S = ProposalState


def _p(state: ProposalState, unit: bool = False) -> Proposal:
    # Loaded rows hold the state as plain text: build them that way, so the methods are tested as they run.
    return Proposal(state=str(state), host_id=None if unit else uuid.uuid4(), unit_id=uuid.uuid4() if unit else None)


def test_every_state_has_its_transitions_and_final_states_have_none():
    assert set(TRANSITIONS) == set(ProposalState)
    assert {s for s, nxt in TRANSITIONS.items() if not nxt} == {S.REJECTED, S.DECLINED, S.CONFIRMED, S.WITHDRAWN,
                                                                       S.SUPERSEDED, S.EXPIRED}
    assert TRANSITIONS[S.SENT] >= {S.EXPIRED}  # only a sent proposal expires (no answer by the deadline)
    assert {s for s, nxt in TRANSITIONS.items() if S.EXPIRED in nxt} == {S.SENT}
    for s, nxt in TRANSITIONS.items():
        assert s not in nxt  # a move keeps the state; it is not a transition


def test_open_states_are_exactly_those_that_can_still_be_withdrawn():
    assert {s for s, nxt in TRANSITIONS.items() if S.WITHDRAWN in nxt} == OPEN_STATES
    assert HOLDING_STATES < OPEN_STATES
    assert S.PROPOSED not in HOLDING_STATES  # a fresh proposal holds no beds until approved
    assert not HOST_VISIBLE_STATES & {S.PROPOSED, S.APPROVED, S.REJECTED}  # hosts see nothing before it is sent


def test_confirmed_only_from_a_confirmable_state():
    assert confirmable_states(is_unit=False) == {S.ACCEPTED}
    assert confirmable_states(is_unit=True) == {S.APPROVED, S.ACCEPTED}
    for unit in (False, True):
        for s in confirmable_states(unit):
            assert S.CONFIRMED in TRANSITIONS[s]


@pytest.mark.parametrize("state", list(ProposalState))
def test_can_methods_follow_the_transitions(state):
    host, unit = _p(state), _p(state, unit=True)
    assert host.can_approve() == (state == S.PROPOSED) == host.can_become(S.APPROVED)
    assert host.can_reject() == host.can_become(S.REJECTED) == (state in (S.PROPOSED, S.APPROVED))
    assert host.can_move() == host.can_reject()
    assert host.can_send() == (state == S.APPROVED) and not unit.can_send()  # units are never sent
    assert host.can_answer() == host.can_become(S.ACCEPTED) == host.can_become(S.DECLINED) == (state == S.SENT)
    assert host.can_confirm() == (state == S.ACCEPTED)
    assert unit.can_confirm() == (state in (S.APPROVED, S.ACCEPTED))
    assert host.is_holding == (state in (S.APPROVED, S.SENT, S.ACCEPTED))
    assert host.is_open == (state in OPEN_STATES)
    assert unit.is_unit and not host.is_unit


def test_methods_work_on_enum_members_and_plain_text_alike():
    p = Proposal(state=S.SENT, host_id=uuid.uuid4())
    assert p.can_answer() and p.is_holding and not p.can_approve()
    p.state = "sent"
    assert p.can_answer() and p.is_holding and not p.can_approve()
