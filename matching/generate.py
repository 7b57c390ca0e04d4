"""Synthetic `ebo-match/1` instances that look like a Swedish municipality, deterministic by seed.

Neighbourhoods lie around a centre (denser and more populous near it); schools cluster in
neighbourhoods; hosts live mostly in neighbourhoods, some spread over the countryside; families have
their school children in one neighbourhood. Sizes: many single adults (about 40 %), some families of
6 to 9. Everything is drawn with NumPy, so even the city scale takes a few seconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from matching.greedy import HostArrays
from matching.schema import (
    Child,
    Family,
    Fixed,
    Forbidden,
    Host,
    Instance,
    Params,
    School,
    Unit,
)

DEFAULT_DATE = dt.date(2026, 12, 1)
CENTRE = (59.33, 18.06)
KM_PER_DEG_LAT = 111.2


@dataclass(frozen=True, slots=True)
class Scale:
    """The size of a synthetic municipality."""

    population: int
    families: int
    hosts: int
    schools: int
    units: int


SCALES: dict[str, Scale] = {
    "small": Scale(population=14_000, families=230, hosts=600, schools=8, units=2),
    "mid": Scale(population=100_000, families=1_700, hosts=4_000, schools=45, units=4),
    "city": Scale(population=1_000_000, families=16_000, hosts=45_000, schools=420, units=12),
}

FAMILY_SIZE_P = np.array([0.40, 0.15, 0.12, 0.12, 0.09, 0.06, 0.03, 0.02, 0.01])  # sizes 1..9
HOST_BEDS_P = np.array([0.22, 0.30, 0.18, 0.15, 0.06, 0.05, 0.02, 0.02])  # beds 1..8
FAMILY_LANGS = ["ar", "uk", "ti", "so", "fa", "prs", "ru", "ku", "en"]
FAMILY_LANGS_P = np.array([0.24, 0.22, 0.10, 0.09, 0.08, 0.08, 0.07, 0.07, 0.05])
HOST_OTHER_LANGS = ["ar", "fa", "ru", "uk", "ku", "so", "ti", "prs"]
HOST_OTHER_LANGS_P = np.array([0.25, 0.15, 0.15, 0.15, 0.10, 0.08, 0.06, 0.06])


def generate(scale: str = "small", seed: int = 0, date: dt.date = DEFAULT_DATE, **options) -> Instance:
    """A synthetic instance at scale small (14,000 inhabitants), mid (100,000) or city (1,000,000).

    `options` go to `generate_custom` (for example `unit_bed_share=0.05` for tight units).
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    s = SCALES[scale]
    return generate_custom(s.families, s.hosts, s.schools, s.units, seed=seed, date=date, **options)


def generate_custom(
    n_families: int,
    n_hosts: int,
    n_schools: int,
    n_units: int,
    *,
    seed: int = 0,
    date: dt.date = DEFAULT_DATE,
    radius_km: float | None = None,
    n_fixed: int | None = None,
    n_forbidden: int | None = None,
    unit_bed_share: float = 0.08,
    multi_family_share: float = 0.0,
    params: Params | None = None,
) -> Instance:
    """A synthetic instance of any size; `unit_bed_share` is unit beds per person to place.

    `multi_family_share` is the share of hosts with 4 or more beds that may take two families (three
    when they have 7 or more beds).
    """
    rng = np.random.default_rng([seed, n_families, n_hosts, n_schools, n_units])
    params = params or Params()
    if radius_km is None:
        # Area grows more slowly than population: cities are denser than rural municipalities.
        radius_km = max(2.0, 9.0 * (max(n_families, 1) / 230) ** 0.25)
    km_lon = KM_PER_DEG_LAT * math.cos(math.radians(CENTRE[0]))

    def to_latlon(x_km: np.ndarray, y_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kilometres east and north of the centre to (lat, lon), rounded to about 10 cm."""
        return (np.round(CENTRE[0] + y_km / KM_PER_DEG_LAT, 6), np.round(CENTRE[1] + x_km / km_lon, 6))

    def disk(n: int, r: float) -> tuple[np.ndarray, np.ndarray]:
        """`n` points uniform over a disk of radius `r` km around the centre."""
        rad, ang = r * np.sqrt(rng.random(n)), rng.random(n) * 2 * np.pi
        return rad * np.cos(ang), rad * np.sin(ang)

    # Neighbourhoods: uniform radius puts more of them near the centre, and central ones are bigger.
    n_nb = max(1, round(n_schools / 2.5))
    nb_r, nb_a = radius_km * rng.random(n_nb) ** 1.2, rng.random(n_nb) * 2 * np.pi
    nb_x, nb_y = nb_r * np.cos(nb_a), nb_r * np.sin(nb_a)
    nb_w = np.exp(-nb_r / (0.5 * radius_km)) * rng.lognormal(0.0, 0.4, n_nb)
    nb_w /= nb_w.sum()
    nb_sd = rng.uniform(0.5, 1.3, n_nb)

    # Schools: at least one per neighbourhood (while there are enough), the rest by population.
    school_nb = np.concatenate(
        [np.arange(min(n_nb, n_schools)), rng.choice(n_nb, max(0, n_schools - n_nb), p=nb_w)]
    ).astype(np.int64)
    school_nb.sort()
    sx = nb_x[school_nb] + rng.normal(0, 1, n_schools) * 0.8 * nb_sd[school_nb]
    sy = nb_y[school_nb] + rng.normal(0, 1, n_schools) * 0.8 * nb_sd[school_nb]
    s_lat, s_lon = to_latlon(sx, sy)
    schools = tuple(School(id=f"S{i + 1:03d}", lat=float(s_lat[i]), lon=float(s_lon[i])) for i in range(n_schools))
    nb_first = np.searchsorted(school_nb, np.arange(n_nb))
    nb_count = np.searchsorted(school_nb, np.arange(n_nb), side="right") - nb_first
    # Families only come from neighbourhoods that have a school, so every child's school is nearby.
    fam_nb_w = np.where(nb_count > 0, nb_w, 0.0)
    fam_nb_w = fam_nb_w / fam_nb_w.sum() if fam_nb_w.sum() > 0 else nb_w

    hosts = _hosts(rng, n_hosts, date, nb_x, nb_y, nb_w, nb_sd, radius_km, to_latlon, disk, multi_family_share)
    families = _families(rng, n_families, date, fam_nb_w, nb_first, nb_count, schools)

    total_persons = sum(f.size for f in families)
    unit_beds = _split(rng, round(unit_bed_share * total_persons), n_units)
    u_nb = rng.choice(n_nb, n_units, p=nb_w) if n_units else np.zeros(0, dtype=np.int64)
    u_lat, u_lon = to_latlon(nb_x[u_nb] + rng.normal(0, 1.5, n_units), nb_y[u_nb] + rng.normal(0, 1.5, n_units))
    u_step = rng.random(n_units) < 0.5
    if n_units:
        u_step[0] = True
    units = tuple(
        Unit(
            id=f"U{i + 1:02d}",
            lat=float(u_lat[i]),
            lon=float(u_lon[i]),
            beds=int(unit_beds[i]),
            step_free=bool(u_step[i]),
        )
        for i in range(n_units)
    )

    inst = Instance(date=date, params=params, schools=schools, hosts=hosts, units=units, families=families)
    if n_fixed is None:
        n_fixed = max(1, round(n_families / 80)) if n_families and n_hosts else 0
    if n_forbidden is None:
        n_forbidden = max(1, round(n_families / 40)) if n_families and n_hosts else 0
    return _fixed_and_forbidden(rng, inst, n_fixed, n_forbidden)


def _split(rng: np.random.Generator, total: int, n: int) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    share = rng.dirichlet(np.full(n, 4.0))
    return np.maximum(10, np.round(share * total)).astype(np.int64)


def _dates(date: dt.date, offsets: np.ndarray) -> list[dt.date]:
    cache: dict[int, dt.date] = {}
    out = []
    for o in offsets.tolist():
        d = cache.get(o)
        if d is None:
            d = cache[o] = date + dt.timedelta(days=o)
        out.append(d)
    return out


def _hosts(rng, n, date, nb_x, nb_y, nb_w, nb_sd, radius_km, to_latlon, disk, multi_share) -> tuple[Host, ...]:
    rural = rng.random(n) < 0.15
    nb = rng.choice(len(nb_w), n, p=nb_w)
    x = nb_x[nb] + rng.normal(0, 1, n) * 1.4 * nb_sd[nb]
    y = nb_y[nb] + rng.normal(0, 1, n) * 1.4 * nb_sd[nb]
    rx, ry = disk(n, radius_km * 1.1)
    lat, lon = to_latlon(np.where(rural, rx, x), np.where(rural, ry, y))
    beds = rng.choice(np.arange(1, 9), n, p=HOST_BEDS_P)
    two = (beds >= 4) & (rng.random(n) < multi_share)
    accepts_children = rng.random(n) < 0.80
    step_free = rng.random(n) < 0.15
    pets = rng.random(n) < 0.30
    smoking = rng.random(n) < 0.10
    sv, en = rng.random(n) < 0.97, rng.random(n) < 0.75
    other = np.where(rng.random(n) < 0.18, rng.choice(len(HOST_OTHER_LANGS), n, p=HOST_OTHER_LANGS_P), -1)
    # Most hosts are open now; some start later; some end soon (too soon for the minimum stay).
    k = rng.random(n)
    from_off = np.where(k < 0.30, -(10**6), np.where(k < 0.65, -rng.integers(0, 200, n), rng.integers(1, 90, n)))
    k2 = rng.random(n)
    start = np.maximum(from_off, 0)
    until_off = np.where(
        k2 < 0.65,
        10**6,
        np.where(k2 < 0.80, start + rng.integers(30, 150, n), start + rng.integers(180, 720, n)),
    )
    froms = _dates(date, np.where(from_off == -(10**6), 0, from_off))
    untils = _dates(date, np.where(until_off == 10**6, 0, until_off))
    out = []
    for i in range(n):
        langs = (["sv"] if sv[i] else []) + (["en"] if en[i] else [])
        if other[i] >= 0:
            langs.append(HOST_OTHER_LANGS[other[i]])
        out.append(
            Host(
                id=f"H{i + 1:05d}",
                lat=float(lat[i]),
                lon=float(lon[i]),
                beds=int(beds[i]),
                max_families=(3 if beds[i] >= 7 else 2) if two[i] else None,
                accepts_children=bool(accepts_children[i]),
                step_free=bool(step_free[i]),
                has_pets=bool(pets[i]),
                smoking=bool(smoking[i]),
                languages=tuple(langs),
                available_from=None if from_off[i] == -(10**6) else froms[i],
                available_until=None if until_off[i] == 10**6 else untils[i],
            )
        )
    return tuple(out)


def _families(rng, n, date, nb_w, nb_first, nb_count, schools) -> tuple[Family, ...]:
    size = rng.choice(np.arange(1, 10), n, p=FAMILY_SIZE_P)
    adults = np.where(
        size == 1,
        1,
        np.where(size == 2, np.where(rng.random(n) < 0.5, 1, 2), np.where(rng.random(n) < 0.25, 1, 2)),
    )
    adults = np.where((size >= 7) & (rng.random(n) < 0.3), 3, adults)
    n_child = size - adults
    nb = rng.choice(len(nb_w), n, p=nb_w)
    # Up to 7 children per family: draw each child's school once, as a whole matrix.
    has_school = rng.random((n, 8)) < 0.60
    own_pick = rng.random((n, 8))
    same_as_first = rng.random((n, 8)) < 0.7
    cnt = np.maximum(nb_count[nb], 1)
    pick = nb_first[nb][:, None] + np.minimum((own_pick * cnt[:, None]).astype(np.int64), cnt[:, None] - 1)
    step = rng.random(n) < 0.07
    allergy = rng.random(n) < 0.12
    non_smoking = rng.random(n) < np.where(n_child > 0, 0.55, 0.30)
    primary = rng.choice(len(FAMILY_LANGS), n, p=FAMILY_LANGS_P)
    en, sv, ru = rng.random(n) < 0.35, rng.random(n) < 0.08, rng.random(n) < 0.5
    arrivals = _dates(date, rng.integers(-20, 61, n))
    n_schools = len(schools)
    out = []
    for i in range(n):
        kids = []
        first = None
        for j in range(int(n_child[i])):
            sid = None
            if has_school[i, j] and n_schools and nb_count[nb[i]] > 0:
                k = first if (first is not None and same_as_first[i, j]) else int(pick[i, j])
                first = k if first is None else first
                sid = schools[k].id
            kids.append(Child(school_id=sid))
        langs = [FAMILY_LANGS[primary[i]]]
        if ru[i] and langs[0] == "uk":
            langs.append("ru")
        if en[i] and "en" not in langs:
            langs.append("en")
        if sv[i]:
            langs.append("sv")
        out.append(
            Family(
                id=f"F{i + 1:05d}",
                size=int(size[i]),
                arrival=arrivals[i],
                children=tuple(kids),
                needs_step_free=bool(step[i]),
                pet_allergy=bool(allergy[i]),
                needs_non_smoking=bool(non_smoking[i]),
                languages=tuple(langs),
            )
        )
    return tuple(out)


def _fixed_and_forbidden(rng, inst: Instance, n_fixed: int, n_forbidden: int) -> Instance:
    """Add fixed placements and forbidden pairs; each one is a pair that meets every rule."""
    arr = HostArrays(inst)
    free_beds, free_slots = arr.beds.copy(), arr.max_families.copy()
    order = rng.permutation(len(inst.families)).tolist()
    fixed: list[Fixed] = []
    used: set[int] = set()
    for fi in order:
        if len(fixed) >= n_fixed:
            break
        f = inst.families[fi]
        idx, _ = arr.candidates(f, free_beds, free_slots)
        if len(idx):
            h = int(idx[rng.integers(len(idx))])
            free_beds[h] -= f.size
            free_slots[h] -= 1
            fixed.append(Fixed(family_id=f.id, host_id=inst.hosts[h].id))
            used.add(fi)
    # One family already agreed into a unit, as happens when a host falls through at short notice.
    if inst.units and n_fixed >= 3 and len(fixed) == n_fixed:
        for fi in order:
            f = inst.families[fi]
            u = next((u for u in inst.units if u.beds >= f.size and (u.step_free or not f.needs_step_free)), None)
            if fi not in used and u is not None:
                fixed[-1] = Fixed(family_id=f.id, unit_id=u.id)
                break
    fixed_ids = {x.family_id for x in fixed}
    forbidden: list[Forbidden] = []
    for fi in order[::-1]:
        if len(forbidden) >= n_forbidden:
            break
        f = inst.families[fi]
        if f.id in fixed_ids:
            continue
        idx, _ = arr.candidates(f, arr.beds, arr.max_families)
        if len(idx):
            forbidden.append(Forbidden(family_id=f.id, host_id=inst.hosts[int(idx[rng.integers(len(idx))])].id))
    return dataclasses.replace(inst, fixed=tuple(fixed), forbidden=tuple(forbidden))
