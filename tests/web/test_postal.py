"""Postal codes: one rule (five digits, not starting with 0) for hosts, schools, units and the imports."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ebo.models import AddressPoint, HousingUnit, School
from ebo.services import imports
from ebo.services.postal import normalise_phone, normalise_postal_code
from tests.conftest import count


@pytest.mark.parametrize("raw", ["12345", "123 45", " 123 45 ", "SE-123 45", "se12345", "SE 12345"])
def test_valid_codes_are_stored_as_three_and_two_digits(raw):
    assert normalise_postal_code(raw) == "123 45"


@pytest.mark.parametrize("raw", [None, "", "   ", "1234", "123456", "012 34", "01234", "12 345", "1234 5",
                                 "123  45", "abcde", "123-45", "SE-012 34", "１２３４５"])
def test_blank_and_invalid_codes_are_none(raw):
    assert normalise_postal_code(raw) is None


@pytest.mark.parametrize("raw, expected", [("070-123 45 67", "+46701234567"), ("+46 (0)70 123 45 67", "+46701234567"),
                                           ("0046701234567", "+46701234567"), ("+4470123456", None), ("12345", None),
                                           ("", None)])
def test_phone_numbers(raw, expected):
    assert normalise_phone(raw) == expected


def _school(**over):
    data = {"code": "12345678", "name": "Ängsskolan", "postal_code": "12345", "lat": "59.33", "lon": "18.07",
            "active": "y"}
    return {**data, **over}


def test_school_and_unit_forms_store_the_normal_form_and_refuse_a_code_starting_with_0(client, login_as, db):
    login_as("caseworker")
    resp = client.post("/schools/new", data=_school(postal_code="012 34"))
    assert resp.status_code == 200 and 'href="#postal_code"' in resp.data.decode() and count(School) == 0
    assert client.post("/schools/new", data=_school(postal_code="SE-123 45")).status_code == 200  # form: 5 digits
    assert client.post("/schools/new", data=_school(postal_code="12345")).status_code == 302
    assert db.session.scalar(sa.select(School.postal_code)) == "123 45"
    unit = {"name": "Tallbacken", "postal_code": "01234", "beds": "4", "active": "y"}
    resp = client.post("/units/new", data=unit)
    assert resp.status_code == 200 and 'href="#postal_code"' in resp.data.decode() and count(HousingUnit) == 0
    assert client.post("/units/new", data={**unit, "postal_code": ""}).status_code == 302
    assert db.session.scalar(sa.select(HousingUnit.postal_code)) is None


def test_imports_use_the_same_rule(app, db):
    bad = imports.import_schools(b"Skolenhetskod;Namn;Postnr\n12345678;X;012 34\n")
    assert not bad.ok and bad.errors[0].line == 2 and "post" in bad.errors[0].column
    ok = imports.import_schools(b"Skolenhetskod;Namn;Postnr\n12345678;X;\n23456789;Y;SE-12346\n")
    assert ok.ok and ok.created == 2
    db.session.commit()
    assert dict(db.session.execute(sa.select(School.code, School.postal_code)).all()) == {
        "12345678": None, "23456789": "123 46"}
    bad = imports.import_addresses(b"postnummer;latitud;longitud\n01234;59,3;18,0\n")
    assert not bad.ok and bad.errors[0].column == "postnummer" and count(AddressPoint) == 0
