"""Plus 5 % preparedness figures: the target, today's capacity against it, and the gaps (aggregates only).

Host beds count when the host is approved, active and reconfirmed within the reconfirmation period
(the hosts that take part in matching); "free" beds are beds not taken by confirmed placements (a host
whose family slots are all taken has none). Everything is also given per postal area, the first three
digits of the postal code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _

from ebo import clock
from ebo.extensions import db
from ebo.models import HostHousehold as H
from ebo.models import HousingUnit, MunicipalitySettings
from ebo.models.types import add_months, start_of_day_utc
from ebo.services import figures_cache
from ebo.services.cards import figures as card_figures
from ebo.services.charts import bar_chart, step_chart
from ebo.services.prep_charts import stacked_bars

SIZE_BUCKETS = ("1", "2", "3", "4", "5", "6+")
DUE_WITHIN_DAYS = 30
UNKNOWN_AREA = "–"
POSTAL_AREA_DIGITS = 3


def postal_area(code: str | None) -> str:
    """The postal area of a postal code: its first three digits ("123 45" → "123")."""
    digits = "".join(ch for ch in (code or "") if ch.isdigit())
    return digits[:POSTAL_AREA_DIGITS] if len(digits) >= POSTAL_AREA_DIGITS else UNKNOWN_AREA


def size_bucket(n: int) -> str:
    """The family-size bucket of `n` persons or beds: "1" … "5", "6+"."""
    return "6+" if n >= 6 else str(max(int(n), 1))


def share(part: float, whole: float) -> float | None:
    """`part` as a percentage of `whole`, one decimal (None when `whole` is zero)."""
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class Capacity:
    """The figures of one area (or the whole municipality)."""

    area: str = ""
    hosts_offering: int = 0
    beds_offering: int = 0
    hosts_approved: int = 0
    beds_approved: int = 0
    hosts_ready: int = 0
    beds_ready: int = 0
    free_host_beds: int = 0
    hosts_waiting_vetting: int = 0
    beds_waiting_vetting: int = 0
    due_soon: int = 0
    overdue: int = 0
    beds_due: int = 0
    unit_beds: int = 0
    free_unit_beds: int = 0
    beds_by_size: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIZE_BUCKETS, 0))
    hosts_by_size: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIZE_BUCKETS, 0))

    @property
    def due(self) -> int:
        """Hosts due for reconfirmation within 30 days or overdue."""
        return self.due_soon + self.overdue

    @property
    def free_beds(self) -> int:
        """Free beds in homes and units together."""
        return self.free_host_beds + self.free_unit_beds


@dataclass
class Dashboard:
    """The municipality's Plus 5 % figures."""

    today: dt.date
    name: str
    population: int
    households: int
    target_percent: float
    target_persons: int
    one_in_ten: int
    reconfirm_months: int
    total: Capacity
    areas: list[Capacity]
    cards: dict[str, int] = field(default_factory=dict)  # welcome cards: issued, active, suspended, expired

    @property
    def host_coverage(self) -> float | None:
        """Free host beds as a percentage of the target."""
        return share(self.total.free_host_beds, self.target_persons)

    @property
    def coverage(self) -> float | None:
        """Free host and unit beds as a percentage of the target."""
        return share(self.total.free_beds, self.target_persons)

    @property
    def gap(self) -> int:
        """Persons of the target without a free bed in a home or a unit."""
        return max(self.target_persons - self.total.free_beds, 0)

    @property
    def gap_after_homes(self) -> int:
        """Persons of the target without a free bed in a home."""
        return max(self.target_persons - self.total.free_host_beds, 0)

    @property
    def unit_share_of_gap(self) -> float | None:
        """How much of the gap left by homes the free unit beds cover, in percent (at most 100)."""
        if not self.gap_after_homes:
            return None
        return min(share(self.total.free_unit_beds, self.gap_after_homes) or 0.0, 100.0)

    @property
    def households_short(self) -> int:
        """Ready host households still missing to reach "one household in ten"."""
        return max(self.one_in_ten - self.total.hosts_ready, 0)


def _host_groups(ready_since: dt.datetime, due_before: dt.datetime):
    """The hosts counted in SQL, one row per postal area, vetting status, state, reconfirmation class and
    free-bed bucket (rows sized to the answer, not to the number of hosts)."""

    confirmed = H.last_reconfirmed_at
    approved = sa.and_(H.vetting_status == "approved", H.state == "active")
    klass = sa.case((sa.not_(approved), ""),
                    (sa.or_(confirmed.is_(None), confirmed < ready_since), "overdue"),
                    (confirmed < due_before, "due_soon"), else_="ready").label("klass")
    free = sa.case((sa.and_(H.families_placed < H.max_families, H.beds > H.beds_used), H.beds - H.beds_used),
                   else_=0)
    bucket = sa.case((klass.not_in(("ready", "due_soon")), 0), (free >= 6, 6), else_=free).label("bucket")
    area = sa.func.substr(H.postal_code, 1, POSTAL_AREA_DIGITS).label("area")
    rows = (sa.select(area, H.vetting_status, H.state, klass, bucket, H.beds, free.label("free"))
            .where(H.state != "withdrawn", H.vetting_status != "rejected").subquery())
    keys = (rows.c.area, rows.c.vetting_status, rows.c.state, rows.c.klass, rows.c.bucket)
    return db.session.execute(
        sa.select(*keys, sa.func.count().label("n"), sa.func.sum(rows.c.beds).label("beds"),
                  sa.func.sum(rows.c.free).label("free")).group_by(*keys)).all()


def _add_group(c: Capacity, r) -> None:
    """Count one group of hosts (`_host_groups`) into `c`."""
    n, beds = int(r.n), int(r.beds or 0)
    c.hosts_offering += n
    c.beds_offering += beds
    if r.vetting_status in ("registered", "visited"):
        c.hosts_waiting_vetting += n
        c.beds_waiting_vetting += beds
        return
    if not r.klass:
        return
    c.hosts_approved += n
    c.beds_approved += beds
    if r.klass == "overdue":
        c.overdue += n
        c.beds_due += beds
        return
    if r.klass == "due_soon":
        c.due_soon += n
        c.beds_due += beds
    c.hosts_ready += n
    c.beds_ready += beds
    free = int(r.free or 0)
    c.free_host_beds += free
    if r.bucket:
        bucket = size_bucket(int(r.bucket))
        c.beds_by_size[bucket] += free
        c.hosts_by_size[bucket] += n


def dashboard(today: dt.date | None = None) -> Dashboard:
    """The Plus 5 % figures for `today`, for the municipality and per postal area (kept a short while:
    figures_cache)."""
    today = today or clock.today()
    return figures_cache.cached("preparedness.dashboard", today, lambda: _dashboard(today))


def _dashboard(today: dt.date) -> Dashboard:
    s = MunicipalitySettings.get()
    months = s.reconfirm_months or 12
    # Ready: reconfirmed on or after this moment (as HostHousehold.matching_clause); due: before the second.
    ready_since = start_of_day_utc(add_months(today, -months))
    due_before = start_of_day_utc(add_months(today + dt.timedelta(days=DUE_WITHIN_DAYS), -months))
    total = Capacity(area="")
    areas: dict[str, Capacity] = {}

    def area(code: str | None) -> Capacity:
        key = postal_area(code)
        return areas.setdefault(key, Capacity(area=key))

    for r in _host_groups(ready_since, due_before):
        for c in (total, area(r.area)):
            _add_group(c, r)
    U = HousingUnit
    units = sa.select(sa.func.substr(U.postal_code, 1, POSTAL_AREA_DIGITS).label("area"), U.beds,
                      sa.case((U.beds > U.beds_used, U.beds - U.beds_used), else_=0).label("free")
                      ).where(U.active.is_(True)).subquery()
    for u in db.session.execute(sa.select(units.c.area, sa.func.sum(units.c.beds), sa.func.sum(units.c.free))
                                .group_by(units.c.area)):
        for c in (total, area(u[0])):
            c.unit_beds += int(u[1] or 0)
            c.free_unit_beds += int(u[2] or 0)
    ordered = sorted((c for c in areas.values() if c.hosts_offering or c.unit_beds),
                     key=lambda c: (c.area == UNKNOWN_AREA, c.area))
    return Dashboard(today=today, name=s.name or "", population=s.population or 0, households=s.households or 0,
                     target_percent=s.target_percent, target_persons=s.target_persons,
                     one_in_ten=s.one_in_ten_households, reconfirm_months=months, total=total, areas=ordered,
                     cards=card_figures(today))


def _beds_phrase(bucket: str) -> str:
    """ "1 bed or more", "4 beds or more", "6 beds or more"."""
    n = 6 if bucket == "6+" else int(bucket)
    return _("1 bed or more") if n == 1 else _("%(n)d beds or more", n=n)


def suggested_actions(d: Dashboard, summary: dict | None) -> list[str]:
    """The actions the gaps suggest, most pressing first (dashboard figures and the latest drill)."""
    out: list[str] = []
    for g in (summary or {}).get("gaps", []):
        text = ngettext("Recruit %(num)d more host with %(beds)s", "Recruit %(num)d more hosts with %(beds)s",
                        g["families"], beds=_beds_phrase(g["size"]))
        top = next((s for s in g.get("schools", []) if s.get("area") and s["area"] != UNKNOWN_AREA), None)
        if top:
            text += _(", %(k)d of them in postal area %(area)s near %(school)s", k=top["families"],
                      area=top["area"], school=top["name"])
        out.append(text + ".")
    t = d.total
    if t.due:
        out.append(ngettext("Ask %(num)d host (%(beds)d beds) to reconfirm the offer; overdue and no longer taking "
                            "part in matching: %(o)d.",
                            "Ask %(num)d hosts (%(beds)d beds) to reconfirm their offer; overdue and no longer taking "
                            "part in matching: %(o)d.", t.due, beds=t.beds_due, o=t.overdue))
    if t.hosts_waiting_vetting:
        out.append(ngettext("Vet %(num)d registered host (%(beds)d beds) waiting for a home visit or a decision.",
                            "Vet %(num)d registered hosts (%(beds)d beds) waiting for a home visit or a decision.",
                            t.hosts_waiting_vetting, beds=t.beds_waiting_vetting))
    if d.households_short:
        out.append(_("Recruit %(n)d more host households to reach one household in ten (%(goal)d).",
                     n=d.households_short, goal=d.one_in_ten))
    if d.gap_after_homes and d.target_persons:
        out.append(_("Municipal unit beds cover %(pct)s %% of the gap that homes leave (%(gap)s).",
                     pct=format_decimal(d.unit_share_of_gap or 0),
                     gap=ngettext("%(num)d person", "%(num)d persons", d.gap_after_homes)))
    elif d.target_persons:
        out.append(_("Free beds in homes cover the whole target."))
    return out


# --------------------------------------------------------------------------- charts


def size_label(bucket: str) -> str:
    """A size bucket in words: "1 person", "3 persons", "6 or more"."""
    if bucket == "1":
        return _("1 person")
    if bucket == "6+":
        return _("6 or more")
    return _("%(n)s persons", n=bucket)


def dashboard_charts(d: Dashboard) -> dict:
    """The dashboard's charts, each with its data table."""

    t = d.total
    homes, units = _("in homes"), _("in municipal units")
    capacity = stacked_bars(
        "prep-capacity", _("Beds against the target"),
        _("Beds offered, approved, reconfirmed and free now, against the target of %(n)d persons (dashed line).",
          n=d.target_persons),
        [(_("Offered"), [t.beds_offering, 0]), (_("Approved"), [t.beds_approved, 0]),
         (_("Reconfirmed"), [t.beds_ready, 0]), (_("Free now"), [t.free_host_beds, t.free_unit_beds])],
        [homes, units], heading=_("Beds"), total_heading=_("Total"), reference=(_("Target"), d.target_persons))
    sizes = bar_chart(
        "prep-sizes", _("Free host beds by the family size they can take"),
        _("Free beds of reconfirmed hosts, grouped by how many persons each host can take."),
        [(size_label(b), t.beds_by_size[b]) for b in SIZE_BUCKETS], heading=_("A host can take"),
        value_heading=_("Free beds"))
    sizes.columns.append(_("Hosts"))
    for row, b in zip(sizes.rows, SIZE_BUCKETS, strict=True):
        row.append(str(t.hosts_by_size[b]))
    households = bar_chart(
        "prep-households", _("Households offering room against one in ten"),
        _("Host households offering room, those ready (approved and reconfirmed), and one household in ten."),
        [(_("Offering"), t.hosts_offering), (_("Ready"), t.hosts_ready), (_("One in ten"), d.one_in_ten)],
        heading=_("Households"), value_heading=_("Number"))
    areas = stacked_bars(
        "prep-areas", _("Free beds by postal area"),
        _("Free beds in reconfirmed host homes and in municipal units, per postal area (first three digits)."),
        [(_("area %(a)s", a=c.area), [c.free_host_beds, c.free_unit_beds]) for c in d.areas],
        [homes, units], heading=_("Postal area"), total_heading=_("Total"))
    return {"capacity": capacity, "sizes": sizes, "households": households, "areas": areas}


def drill_charts(summary: dict) -> dict:
    """A drill result's charts: persons by family size and by postal area, with their tables."""

    series = [_("in homes"), _("in municipal units"), _("not housed")]
    by_size = stacked_bars(
        "drill-sizes", _("Where the persons of the drill were housed, by family size"),
        _("Persons housed in host homes, in municipal units and not at all, for each family size."),
        [(size_label(r["size"]), [r["homes"], r["units"], r["unplaced"]]) for r in summary.get("by_size", [])],
        series, heading=_("Family size"), total_heading=_("Persons"))
    by_area = stacked_bars(
        "drill-areas", _("Host beds used and left free, by postal area"),
        _("Persons housed in host homes in each postal area, and the free host beds left there."),
        [(_("area %(a)s", a=a["area"]), [a["persons"], max(a["beds"] - a["persons"], 0)])
         for a in summary.get("by_area", [])],
        [_("persons housed"), _("beds left free")], heading=_("Postal area"), total_heading=_("Free beds before"))
    return {"sizes": by_size, "areas": by_area}


def history_chart(drills: list):
    """Drill results over time (oldest first): persons in homes, in units and not housed."""

    drills = [x for x in drills if x.summary][::-1]
    labels = [format_date(x.created_at) for x in drills]  # the day in Sweden, in the user's locale
    return step_chart(
        "drill-history", _("Drill results over time"),
        _("Persons housed in homes, in units and not housed, in each drill."), labels,
        [(_("in homes"), [x.summary["homes"] for x in drills]),
         (_("in units"), [x.summary["in_units"] for x in drills]),
         (_("not housed"), [x.summary["unplaced"] for x in drills])], x_heading=_("Drill"))
