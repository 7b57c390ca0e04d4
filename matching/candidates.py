"""Vectorised feasibility and costs of family–host pairs, host classes for pricing, and fixed placements.

Families with a schooled child get every feasible host (the school limit keeps these sparse), found
through a KD-tree ball around each school. Families without a schooled child could go almost anywhere
at zero school cost, so their pairs are never listed in full: hosts and families are grouped into
classes that are interchangeable for them, and the solver prices every left-out pair class by class.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from matching.geo import haversine_km, haversine_km_np, km_to_chord, to_unit_xyz
from matching.schema import Family, Instance, Placement

# Same slack as matching.rules.KM_TOLERANCE; repeated so that this module stands without rules.py.
KM_TOLERANCE = 1e-9
_NEVER = np.iinfo(np.int64).max // 4
_ALWAYS = -_NEVER


@dataclass
class Prep:
    """The instance after fixed placements are taken out, as NumPy arrays (local family index = row)."""

    inst: Instance
    fam_index: np.ndarray            # local family -> index in inst.families
    fixed_placements: list[Placement]
    fixed_cost: float
    # families (free ones only)
    f_size: np.ndarray
    f_child: np.ndarray
    f_sf: np.ndarray
    f_allergy: np.ndarray
    f_nonsmoke: np.ndarray
    f_arrival: np.ndarray
    f_lang: np.ndarray               # (nF, words) uint64 bit sets
    f_schooled: np.ndarray           # has at least one child with a school
    f_schools: list[tuple[tuple[int, int], ...]]  # per family: sorted (school index, children) pairs
    # hosts (all), with what fixed placements leave
    h_beds: np.ndarray
    h_slots: np.ndarray
    h_acc: np.ndarray
    h_sf: np.ndarray
    h_pets: np.ndarray
    h_smoke: np.ndarray
    h_from: np.ndarray
    h_until: np.ndarray
    h_lat: np.ndarray
    h_lon: np.ndarray
    h_lang: np.ndarray
    # units
    u_beds: np.ndarray
    u_sf: np.ndarray
    u_cost: np.ndarray               # (nF, nU) cost of each free family in each unit; inf: not allowed
    unplaced_cost: np.ndarray
    forbidden: dict[int, np.ndarray]  # local family -> sorted forbidden host indices
    forbidden_keys: np.ndarray        # sorted f * nH + h
    school_lat: np.ndarray
    school_lon: np.ndarray
    _ball: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _tree: cKDTree | None = None

    @property
    def n_fam(self) -> int:
        """Number of free (not fixed) families."""
        return len(self.fam_index)

    @property
    def n_host(self) -> int:
        """Number of hosts."""
        return len(self.h_beds)

    def family(self, f: int) -> Family:
        """The Family of local index f."""
        return self.inst.families[int(self.fam_index[f])]


def _lang_bits(lang_lists: list[tuple[str, ...]], codes: dict[str, int], words: int) -> np.ndarray:
    out = np.zeros((len(lang_lists), words), dtype=np.uint64)
    for i, ls in enumerate(lang_lists):
        for x in ls:
            j = codes.get(x)
            if j is not None:
                out[i, j // 64] |= np.uint64(1) << np.uint64(j % 64)
    return out


def _date(d: dt.date | None, default: int) -> int:
    return d.toordinal() if d is not None else default


def prepare(inst: Instance) -> Prep:
    """Arrays for the free families, hosts and units, with fixed placements' beds and slots taken off."""
    w = inst.params.weights
    hosts, units, fams = inst.hosts, inst.units, inst.families
    h_idx = {h.id: i for i, h in enumerate(hosts)}
    u_idx = {u.id: i for i, u in enumerate(units)}
    f_idx = {f.id: i for i, f in enumerate(fams)}
    s_idx = {s.id: i for i, s in enumerate(inst.schools)}
    school_lat = np.array([s.lat for s in inst.schools], dtype=float)
    school_lon = np.array([s.lon for s in inst.schools], dtype=float)

    h_beds = np.array([h.beds for h in hosts], dtype=np.int64)
    h_slots = np.array([inst.max_families(h) for h in hosts], dtype=np.int64)
    u_beds = np.array([u.beds for u in units], dtype=np.int64)
    fixed_ids: set[str] = set()
    fixed_placements: list[Placement] = []
    fixed_cost = 0.0
    for x in inst.fixed:
        f = fams[f_idx[x.family_id]]
        fixed_ids.add(f.id)
        km = _child_km(inst, s_idx, school_lat, school_lon, f, x.host_id, x.unit_id, h_idx, u_idx)
        dist = sum(k for k in km if k is not None)
        if x.host_id is not None:
            h = h_idx[x.host_id]
            h_beds[h] -= f.size
            h_slots[h] -= 1
            shares = not set(hosts[h].languages).isdisjoint(f.languages)
            fixed_cost += w.school_km * dist + (0.0 if shares else w.no_common_language)
        else:
            u_beds[u_idx[x.unit_id]] -= f.size
            fixed_cost += w.unit_per_person * f.size + w.school_km * dist
        fixed_placements.append(Placement(family_id=f.id, host_id=x.host_id, unit_id=x.unit_id, child_km=km))

    # Fixed placements are kept even when they overfill a place; no one else may join them there.
    np.maximum(h_beds, 0, out=h_beds)
    np.maximum(h_slots, 0, out=h_slots)
    np.maximum(u_beds, 0, out=u_beds)
    fam_index = np.array([i for i, f in enumerate(fams) if f.id not in fixed_ids], dtype=np.int64)
    free = [fams[i] for i in fam_index]
    codes = {x: i for i, x in enumerate(sorted({x for f in free for x in f.languages}))}
    words = max(1, (len(codes) + 63) // 64)

    f_schools = []
    for f in free:
        cnt: dict[int, int] = {}
        for c in f.children:
            if c.school_id is not None:
                s = s_idx[c.school_id]
                cnt[s] = cnt.get(s, 0) + 1
        f_schools.append(tuple(sorted(cnt.items())))

    h_lat = np.array([h.lat for h in hosts], dtype=float)
    h_lon = np.array([h.lon for h in hosts], dtype=float)
    u_lat = np.array([u.lat for u in units], dtype=float)
    u_lon = np.array([u.lon for u in units], dtype=float)
    u_sf = np.array([u.step_free for u in units], dtype=bool)
    f_size = np.array([f.size for f in free], dtype=np.int64)
    f_sf = np.array([f.needs_step_free for f in free], dtype=bool)

    # Unit costs: per person plus the school km, which units pay too.
    n_f, n_u = len(free), len(units)
    u_cost = np.full((n_f, n_u), np.inf)
    if n_u and n_f:
        d_us = haversine_km_np(u_lat[:, None], u_lon[:, None], school_lat[None, :], school_lon[None, :]) \
            if len(school_lat) else np.zeros((n_u, 0))
        km = np.zeros((n_f, n_u))
        for i, sc in enumerate(f_schools):
            for s, c in sc:
                km[i] += c * d_us[:, s]
        u_cost = w.unit_per_person * f_size[:, None] + w.school_km * km
        u_cost[f_sf[:, None] & ~u_sf[None, :]] = np.inf
        u_cost[f_size[:, None] > u_beds[None, :]] = np.inf

    local = {int(fi): k for k, fi in enumerate(fam_index)}
    forb: dict[int, list[int]] = {}
    for x in inst.forbidden:
        k = local.get(f_idx[x.family_id])
        if k is not None:
            forb.setdefault(k, []).append(h_idx[x.host_id])
    forbidden = {k: np.unique(np.array(v, dtype=np.int64)) for k, v in forb.items()}
    n_h = len(hosts)
    keys = [k * n_h + forbidden[k] for k in sorted(forbidden)]
    forbidden_keys = np.sort(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)

    return Prep(
        inst=inst, fam_index=fam_index, fixed_placements=fixed_placements, fixed_cost=fixed_cost,
        f_size=f_size, f_child=np.array([bool(f.children) for f in free], dtype=bool), f_sf=f_sf,
        f_allergy=np.array([f.pet_allergy for f in free], dtype=bool),
        f_nonsmoke=np.array([f.needs_non_smoking for f in free], dtype=bool),
        f_arrival=np.array([f.arrival.toordinal() for f in free], dtype=np.int64),
        f_lang=_lang_bits([f.languages for f in free], codes, words),
        f_schooled=np.array([bool(sc) for sc in f_schools], dtype=bool), f_schools=f_schools,
        h_beds=h_beds, h_slots=h_slots,
        h_acc=np.array([h.accepts_children for h in hosts], dtype=bool),
        h_sf=np.array([h.step_free for h in hosts], dtype=bool),
        h_pets=np.array([h.has_pets for h in hosts], dtype=bool),
        h_smoke=np.array([h.smoking for h in hosts], dtype=bool),
        h_from=np.array([_date(h.available_from, _ALWAYS) for h in hosts], dtype=np.int64),
        h_until=np.array([_date(h.available_until, _NEVER) for h in hosts], dtype=np.int64),
        h_lat=h_lat, h_lon=h_lon, h_lang=_lang_bits([h.languages for h in hosts], codes, words),
        u_beds=u_beds, u_sf=u_sf, u_cost=u_cost,
        unplaced_cost=w.unplaced_per_person * f_size.astype(float),
        forbidden=forbidden, forbidden_keys=forbidden_keys,
        school_lat=school_lat, school_lon=school_lon,
    )


def _child_km(inst, s_idx, slat, slon, f: Family, host_id, unit_id, h_idx, u_idx) -> tuple[float | None, ...]:
    place = inst.hosts[h_idx[host_id]] if host_id is not None else inst.units[u_idx[unit_id]]
    return tuple(None if c.school_id is None else
                 haversine_km(place.lat, place.lon, slat[s_idx[c.school_id]], slon[s_idx[c.school_id]])
                 for c in f.children)


# --------------------------------------------------------------------------- pair rules


def no_common_language(p: Prep, pf: np.ndarray, ph: np.ndarray) -> np.ndarray:
    """True where family pf[i] and host ph[i] share no language."""
    return ~((p.f_lang[pf] & p.h_lang[ph]) != 0).any(axis=1)


def _school_ball(p: Prep, s: int) -> tuple[np.ndarray, np.ndarray]:
    hit = p._ball.get(s)
    if hit is None:
        if p._tree is None:
            p._tree = cKDTree(to_unit_xyz(p.h_lat, p.h_lon))
        max_km = p.inst.params.max_school_km
        # The chord radius is widened a little; the exact haversine below decides.
        idx = np.array(sorted(p._tree.query_ball_point(
            to_unit_xyz(p.school_lat[s], p.school_lon[s]), km_to_chord(max_km) * (1 + 1e-6) + 1e-12)),
            dtype=np.int64)
        km = haversine_km_np(p.school_lat[s], p.school_lon[s], p.h_lat[idx], p.h_lon[idx]) \
            if len(idx) else np.zeros(0)
        keep = km <= max_km + KM_TOLERANCE
        hit = (idx[keep], km[keep])
        p._ball[s] = hit
    return hit


@dataclass
class Pairs:
    """Candidate family–host pairs with their cost, sorted by family."""

    f: np.ndarray
    h: np.ndarray
    cost: np.ndarray

    def __len__(self) -> int:
        return len(self.f)


def schooled_pairs(p: Prep) -> Pairs:
    """Every feasible pair of a family with a schooled child (the school rule prunes them)."""
    w = p.inst.params.weights
    stay = p.inst.params.min_stay_days
    groups: dict[tuple[tuple[int, int], ...], list[int]] = {}
    for f in np.flatnonzero(p.f_schooled).tolist():
        groups.setdefault(p.f_schools[f], []).append(f)
    # Rules 2-3 as bit sets: a pair breaks one when the host's flaw meets the family's need.
    h_flaw = ((~p.h_acc).astype(np.int64) | ((~p.h_sf).astype(np.int64) << 1)
              | (p.h_pets.astype(np.int64) << 2) | (p.h_smoke.astype(np.int64) << 3))
    f_need = (p.f_child.astype(np.int64) | (p.f_sf.astype(np.int64) << 1)
              | (p.f_allergy.astype(np.int64) << 2) | (p.f_nonsmoke.astype(np.int64) << 3))
    h_cap = np.where(p.h_slots >= 1, p.h_beds, -1)
    fs, hs, cs = [], [], []
    usable = h_cap >= 1
    for key, members in groups.items():
        idx, km = None, None
        for s, c in key:
            sidx, skm = _school_ball(p, s)
            if idx is None:
                idx, km = sidx, c * skm
            else:
                idx, a, b = np.intersect1d(idx, sidx, assume_unique=True, return_indices=True)
                km = km[a] + c * skm[b]
            if not len(idx):
                break
        keep = usable[idx]
        idx, km = idx[keep], km[keep]
        if not len(idx):
            continue
        m = np.array(members, dtype=np.int64)
        arr = p.f_arrival[m][:, None]
        ok = h_cap[idx][None, :] >= p.f_size[m][:, None]
        ok &= (h_flaw[idx][None, :] & f_need[m][:, None]) == 0
        ok &= (p.h_from[idx][None, :] <= arr) & (p.h_until[idx][None, :] >= arr + stay)
        for i, f in enumerate(members):
            fb = p.forbidden.get(f)
            if fb is not None:
                ok[i] &= ~np.isin(idx, fb)
        shared = np.zeros(ok.shape, dtype=bool)
        fl, hl = p.f_lang[m], p.h_lang[idx]
        for j in range(fl.shape[1]):
            shared |= (fl[:, None, j] & hl[None, :, j]) != 0
        cost = w.school_km * km[None, :] + np.where(shared, 0.0, w.no_common_language)
        r, c_ = np.nonzero(ok)
        fs.append(m[r])
        hs.append(idx[c_])
        cs.append(cost[r, c_])
    if not fs:
        e = np.zeros(0, dtype=np.int64)
        return Pairs(e, e, np.zeros(0))
    pf, ph, pc = np.concatenate(fs), np.concatenate(hs), np.concatenate(cs)
    order = np.argsort(pf, kind="stable")
    return Pairs(pf[order], ph[order], pc[order])


# --------------------------------------------------------------------------- classes for families without school


@dataclass
class NsClasses:
    """Families without a schooled child, and hosts, grouped so that members are interchangeable for them."""

    fams: np.ndarray          # local indices of families without a schooled child
    fam_class: np.ndarray     # class of each of fams
    host_class: np.ndarray    # class of every host, -1 when no such family can use it
    compat: np.ndarray        # (n family classes, n host classes) bool
    nolang: np.ndarray        # (n family classes, n host classes) bool: no common language
    hc_members: list[np.ndarray]
    fc_members: list[np.ndarray]   # local family indices per family class


def ns_classes(p: Prep) -> NsClasses:
    """Group families without a schooled child, and hosts, by everything the rules and costs look at."""
    fams = np.flatnonzero(~p.f_schooled)
    n_h = p.n_host
    if not len(fams):
        return NsClasses(fams, np.zeros(0, np.int64), np.full(n_h, -1, np.int64), np.zeros((0, 0), bool),
                         np.zeros((0, 0), bool), [], [])
    stay = p.inst.params.min_stay_days
    arrivals = np.unique(p.f_arrival[fams])
    lang_used = np.bitwise_or.reduce(p.f_lang[fams], axis=0)
    max_size = int(p.f_size[fams].max())
    forb_hosts = np.unique(np.concatenate([p.forbidden[f] for f in fams.tolist() if f in p.forbidden]
                                          or [np.zeros(0, np.int64)]))

    # Host key: only what can tell two hosts apart for these families.
    fr = np.searchsorted(arrivals, p.h_from, side="left")
    ur = np.searchsorted(arrivals, np.where(p.h_until >= _NEVER, _NEVER, p.h_until - stay), side="right")
    usable = (p.h_slots >= 1) & (p.h_beds >= 1) & (ur > fr)
    single = np.full(n_h, -1, dtype=np.int64)
    single[forb_hosts] = forb_hosts
    hl = p.h_lang & lang_used[None, :]
    hkey = np.column_stack([np.minimum(p.h_beds, max_size), p.h_acc & p.f_child[fams].any(),
                            p.h_sf & p.f_sf[fams].any(), p.h_pets & p.f_allergy[fams].any(),
                            p.h_smoke & p.f_nonsmoke[fams].any(), fr, ur, single,
                            hl.view(np.int64)]).astype(np.int64)
    host_class = np.full(n_h, -1, dtype=np.int64)
    u_idx = np.flatnonzero(usable)
    if len(u_idx):
        hk, hinv = np.unique(hkey[u_idx], axis=0, return_inverse=True)
        host_class[u_idx] = hinv.ravel()
    else:
        hk = np.zeros((0, hkey.shape[1]), dtype=np.int64)

    ar = np.searchsorted(arrivals, p.f_arrival[fams])
    fsingle = np.where(np.isin(fams, np.array(sorted(p.forbidden), dtype=np.int64)), fams, -1)
    fkey = np.column_stack([p.f_size[fams], p.f_child[fams], p.f_sf[fams], p.f_allergy[fams],
                            p.f_nonsmoke[fams], ar, fsingle, p.f_lang[fams].view(np.int64)]).astype(np.int64)
    fk, finv = np.unique(fkey, axis=0, return_inverse=True)
    finv = finv.ravel()

    n_w = p.f_lang.shape[1]
    fl = fk[:, 7:7 + n_w].view(np.uint64)
    hlk = hk[:, 8:8 + n_w].view(np.uint64)
    n_fc, n_hc = len(fk), len(hk)
    compat = np.zeros((n_fc, n_hc), dtype=bool)
    nolang = np.zeros((n_fc, n_hc), dtype=bool)
    step = max(1, 4_000_000 // max(1, n_hc))
    for a in range(0, n_fc, step):
        F = fk[a:a + step]
        c = hk[None, :, 0] >= F[:, None, 0]
        c &= (hk[None, :, 1] == 1) | (F[:, None, 1] == 0)
        c &= (hk[None, :, 2] == 1) | (F[:, None, 2] == 0)
        c &= ~((hk[None, :, 3] == 1) & (F[:, None, 3] == 1))
        c &= ~((hk[None, :, 4] == 1) & (F[:, None, 4] == 1))
        c &= (hk[None, :, 5] <= F[:, None, 5]) & (F[:, None, 5] < hk[None, :, 6])
        nl = np.ones(c.shape, dtype=bool)
        for j in range(n_w):
            nl &= (fl[a:a + step, None, j] & hlk[None, :, j]) == 0
        compat[a:a + step] = c
        nolang[a:a + step] = nl
    # Forbidden pairs sit in singleton classes on both sides, so one matrix cell each.
    fc_of = {int(f): int(finv[i]) for i, f in enumerate(fams.tolist())}
    for f, hs_ in p.forbidden.items():
        if f in fc_of:
            for h in hs_.tolist():
                if host_class[h] >= 0:
                    compat[fc_of[f], host_class[h]] = False

    order = np.argsort(host_class, kind="stable")
    bounds = np.searchsorted(host_class[order], np.arange(n_hc + 1))
    hc_members = [order[bounds[i]:bounds[i + 1]] for i in range(n_hc)]
    forder = np.argsort(finv, kind="stable")
    fb = np.searchsorted(finv[forder], np.arange(n_fc + 1))
    fc_members = [fams[forder[fb[i]:fb[i + 1]]] for i in range(n_fc)]
    return NsClasses(fams=fams, fam_class=finv, host_class=host_class, compat=compat, nolang=nolang,
                     hc_members=hc_members, fc_members=fc_members)


def ns_pairs_for(p: Prep, cls: NsClasses, fam_class_ids: np.ndarray | None = None,
                 host_limit: int | None = None, rng: np.random.Generator | None = None) -> Pairs:
    """Pairs of families without a schooled child with their hosts: all of them, or `host_limit` per family."""
    w = p.inst.params.weights
    fcs = range(len(cls.fc_members)) if fam_class_ids is None else fam_class_ids.tolist()
    fs, hs, cs = [], [], []
    hc_size = np.array([len(m) for m in cls.hc_members], dtype=np.int64)
    hc_beds = np.array([p.h_beds[m[0]] if len(m) else 0 for m in cls.hc_members], dtype=np.int64)
    tie = rng.random(len(hc_beds)) if rng is not None else np.zeros(len(hc_beds))
    gorder = np.lexsort((tie, hc_beds))
    for fc in fcs:
        members = cls.fc_members[fc]
        hcs = np.flatnonzero(cls.compat[fc])
        if not len(hcs):
            continue
        if host_limit is None:
            pools = [cls.hc_members[c] for c in hcs.tolist()]
            pool = np.concatenate(pools)
            costs = np.repeat(cls.nolang[fc, hcs] * w.no_common_language, [len(x) for x in pools])
            fs.append(np.repeat(members, len(pool)))
            hs.append(np.tile(pool, len(members)))
            cs.append(np.tile(costs, len(members)))
            continue
        # A limited set: half from the classes whose beds fit most tightly (big homes stay free for
        # big families), half at random over the cheapest classes, so that families of one kind do not
        # all queue for the same few hosts.
        row = cls.compat[fc][gorder]
        nl = cls.nolang[fc][gorder]
        cheap = gorder[row & ~nl]
        seq = cheap if len(cheap) else gorder[row & nl]
        sizes = hc_size[seq]
        cum = np.cumsum(sizes)
        need = host_limit * len(members)
        cut = int(np.searchsorted(cum, 2 * need)) + 1
        tight = np.concatenate([cls.hc_members[c] for c in seq[:cut].tolist()])
        if rng is not None:
            draws = rng.random(need) * cum[-1]
            ci = np.searchsorted(cum, draws, side="right")
            off = (draws - (cum[ci] - sizes[ci])).astype(np.int64)
            spread = np.array([cls.hc_members[c][min(o, len(cls.hc_members[c]) - 1)]
                               for c, o in zip(seq[ci].tolist(), off.tolist(), strict=True)], dtype=np.int64)
            tight = tight[rng.permutation(len(tight))]
            pool = np.unique(np.concatenate([tight[:need], spread]))
            pool = pool[rng.permutation(len(pool))]
        else:
            pool = tight
        costs = np.where(cls.nolang[fc, cls.host_class[pool]], w.no_common_language, 0.0)
        k = min(host_limit, len(pool))
        pos = (np.arange(len(members))[:, None] * k + np.arange(k)[None, :]) % len(pool)
        fs.append(np.repeat(members, k))
        hs.append(pool[pos].ravel())
        cs.append(costs[pos].ravel())
    if not fs:
        e = np.zeros(0, dtype=np.int64)
        return Pairs(e, e, np.zeros(0))
    pf, ph, pc = np.concatenate(fs), np.concatenate(hs), np.concatenate(cs)
    order = np.argsort(pf, kind="stable")
    return Pairs(pf[order], ph[order], pc[order])


def all_pairs(p: Prep) -> Pairs:
    """Every feasible family–host pair (for small instances and tests); dense for families without school."""
    a = schooled_pairs(p)
    b = ns_pairs_for(p, ns_classes(p))
    pf, ph, pc = np.concatenate([a.f, b.f]), np.concatenate([a.h, b.h]), np.concatenate([a.cost, b.cost])
    order = np.lexsort((ph, pf))
    return Pairs(pf[order], ph[order], pc[order])


def count_ns_pairs(cls: NsClasses) -> int:
    """How many pairs families without a schooled child have in total (without listing them)."""
    if not len(cls.fc_members):
        return 0
    fsz = np.array([len(m) for m in cls.fc_members], dtype=np.int64)
    hsz = np.array([len(m) for m in cls.hc_members], dtype=np.int64)
    return int(fsz @ row_sums(cls.compat, hsz))


def row_sums(mask: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """mask @ weight for a boolean matrix, in blocks of rows (no full-size integer copy at city scale)."""
    out = np.zeros(mask.shape[0], dtype=np.int64)
    step = max(1, 4_000_000 // max(1, mask.shape[1]))
    for a in range(0, mask.shape[0], step):
        out[a:a + step] = mask[a:a + step].astype(np.int64) @ weight
    return out
