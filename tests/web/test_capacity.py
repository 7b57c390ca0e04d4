"""The guarded counter updates refuse to exceed beds or family slots."""

import datetime as dt

import pytest

from ebo.extensions import db as _db
from ebo.services import capacity


@pytest.fixture
def host(db, make_user):
    from ebo.models import HostHousehold

    user = make_user("host")
    h = HostHousehold(user_id=user.id, contact_name="A", email=user.email, phone="0701234567",
                      street="Ekvägen 1", postal_code="123 45", town="Sjövik", beds=4, rooms=2,
                      adults_living=1, children_living=0, max_families=2, languages=["sv"],
                      available_from=dt.date(2026, 1, 1))
    _db.session.add(h)
    _db.session.commit()
    return h


@pytest.fixture
def unit(db):
    from ebo.models import HousingUnit

    u = HousingUnit(name="Enhet", beds=5, step_free=True)
    _db.session.add(u)
    _db.session.commit()
    return u


def test_host_reserve_within_beds_then_refuse(host):
    capacity.reserve_host(host.id, 3)
    assert host.beds_used == 3 and host.families_placed == 1
    with pytest.raises(capacity.CapacityError):
        capacity.reserve_host(host.id, 2)  # 3 + 2 > 4 beds
    capacity.reserve_host(host.id, 1)
    assert host.beds_used == 4 and host.families_placed == 2


def test_host_family_slots_bind(host):
    capacity.reserve_host(host.id, 1)
    capacity.reserve_host(host.id, 1)
    with pytest.raises(capacity.CapacityError):
        capacity.reserve_host(host.id, 1)  # max_families = 2


def test_release_gives_back(host):
    capacity.reserve_host(host.id, 4)
    capacity.release_host(host.id, 4)
    assert host.beds_used == 0 and host.families_placed == 0
    with pytest.raises(capacity.CapacityError):
        capacity.release_host(host.id, 1)


def test_unit_reserve_and_release(unit):
    capacity.reserve_unit(unit.id, 5)
    with pytest.raises(capacity.CapacityError):
        capacity.reserve_unit(unit.id, 1)
    capacity.release_unit(unit.id, 2)
    assert unit.beds_used == 3
