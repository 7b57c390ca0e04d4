"""Address to coordinates: the municipality's address table, optionally a Nominatim-compatible service.

The host never sees coordinates. An address that cannot be placed is accepted and flagged
``not_found`` for the coordinator rather than guessed, so that no host is matched on a made-up location.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from flask import current_app

from ebo.extensions import db
from ebo.models import AddressPoint, GeocodeStatus, normalise_street
from ebo.models.geo import in_sweden

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Location:
    """Coordinates found for an address and how precise they are ('address' or 'postal_code')."""

    lat: float
    lon: float
    precision: str


class Geocoder(Protocol):
    """Anything that turns a Swedish address into coordinates, or None when it cannot."""

    def locate(self, street: str, postal_code: str, town: str) -> Location | None:
        """Return the location of the address, or None."""


class TableGeocoder:
    """Looks addresses up in the imported AddressPoint table: street and postal code, else the postal code."""

    def locate(self, street: str, postal_code: str, town: str) -> Location | None:
        """Return the street's point, else the postal code's centroid (street ''), else None."""
        key = normalise_street(street)
        rows = db.session.execute(
            sa.select(AddressPoint.street, AddressPoint.lat, AddressPoint.lon).where(
                AddressPoint.postal_code == postal_code, AddressPoint.street.in_([key, ""])
            )
        ).all()
        by_street = {r.street: r for r in rows}
        if key and key in by_street:
            r = by_street[key]
            return Location(r.lat, r.lon, "address")
        if "" in by_street:
            r = by_street[""]
            return Location(r.lat, r.lon, "postal_code")
        return None


class NominatimGeocoder:
    """A Nominatim-compatible search API (``{url}/search?format=jsonv2&street=...``), called with urllib."""

    def __init__(self, url: str, timeout: float = 5.0, user_agent: str = "ebo-host-matching/0.1"):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.user_agent = user_agent

    def query_url(self, street: str, postal_code: str, town: str) -> str:
        """Return the search URL for a structured query limited to Sweden."""
        params = {
            "format": "jsonv2",
            "limit": "1",
            "countrycodes": "se",
            "street": street,
            "postalcode": postal_code.replace(" ", ""),
            "city": town,
            "country": "Sweden",
        }
        base = self.url if self.url.endswith("/search") else self.url + "/search"
        return base + "?" + urllib.parse.urlencode(params)

    def locate(self, street: str, postal_code: str, town: str) -> Location | None:
        """Return the first result inside Sweden, or None on no result, an error or a bad answer."""
        url = self.query_url(street, postal_code, town)
        if not url.startswith(("http://", "https://")):
            return None
        req = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url,
            headers={
                "User-Agent": self.user_agent,
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (scheme checked)
                data = json.loads(resp.read(1_000_000).decode("utf-8"))
            first = data[0] if isinstance(data, list) and data else None
            if not isinstance(first, dict):
                return None
            lat, lon = float(first["lat"]), float(first["lon"])
        except (OSError, urllib.error.URLError, ValueError, KeyError, TypeError) as e:
            log.warning("geocoder request failed: %s", type(e).__name__)
            return None
        if not in_sweden(lat, lon):  # a service answering outside Sweden answered for the wrong place
            return None
        return Location(lat, lon, "address")


class ChainGeocoder:
    """Asks each geocoder in turn and returns the first answer."""

    def __init__(self, *geocoders: Geocoder):
        self.geocoders = geocoders

    def locate(self, street: str, postal_code: str, town: str) -> Location | None:
        """Return the first geocoder's answer that is not None."""
        for g in self.geocoders:
            found = g.locate(street, postal_code, town)
            if found is not None:
                return found
        return None


def default_geocoder() -> Geocoder:
    """The address table first; then the HTTP service when ``GEOCODER_URL`` is configured."""
    url = current_app.config.get("GEOCODER_URL")
    if url:
        return ChainGeocoder(
            TableGeocoder(), NominatimGeocoder(url, float(current_app.config.get("GEOCODER_TIMEOUT_S", 5.0)))
        )
    return TableGeocoder()


def geocode_household(household, geocoder: Geocoder | None = None) -> bool:
    """Set the household's coordinates and geocode status from its address; return whether it was found."""
    found = (geocoder or default_geocoder()).locate(household.street, household.postal_code, household.town)
    if found is None:
        household.lat = household.lon = None
        household.geocode_status = GeocodeStatus.NOT_FOUND.value
        return False
    household.lat, household.lon = found.lat, found.lon
    household.geocode_status = GeocodeStatus.OK.value
    return True
