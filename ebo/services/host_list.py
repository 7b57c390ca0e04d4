"""The coordinators' list of every host household: search by name, email, postal code or reference, and
filters by vetting status, the host's own choice, area, beds, language, step-free access and pets."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ebo.extensions import db
from ebo.languages import LANGUAGE_CODES
from ebo.models import HostHousehold, HostState, VettingStatus
from ebo.references import normalise

PER_PAGE = 25
# A search's matches are counted up to this many (or to just past the page asked for): a word found in most
# of 50,000 hosts would otherwise have the database read them all on every page, only to print the number.
COUNT_CAP = 1000


@dataclass
class HostFilters:
    """The hosts list's search text and filters (all optional; unknown values are ignored)."""

    q: str = ""
    vetting: str = ""
    state: str = ""
    area: str = ""        # the first digits of the postal code, e.g. "745"
    min_beds: int | None = None
    language: str = ""
    step_free: bool = False
    no_pets: bool = False

    @classmethod
    def from_args(cls, q: str, args) -> HostFilters:
        """Filters from the search text and the URL's query arguments, with unknown values dropped."""
        beds = args.get("beds", "")
        area = "".join(ch for ch in args.get("area", "") if ch.isdigit())[:5]
        return cls(
            q=q,
            vetting=args.get("vetting", "") if args.get("vetting", "") in set(VettingStatus) else "",
            state=args.get("state", "") if args.get("state", "") in set(HostState) else "",
            area=area,
            min_beds=int(beds) if beds.isdigit() and 1 <= int(beds) <= 20 else None,
            language=args.get("language", "") if args.get("language", "") in LANGUAGE_CODES else "",
            step_free=args.get("step_free") == "1",
            no_pets=args.get("no_pets") == "1",
        )

    def query_args(self) -> dict[str, str]:
        """The filters (not the search text) as URL arguments."""
        out = {"vetting": self.vetting, "state": self.state, "area": self.area,
               "beds": str(self.min_beds) if self.min_beds else "", "language": self.language,
               "step_free": "1" if self.step_free else "", "no_pets": "1" if self.no_pets else ""}
        return {k: v for k, v in out.items() if v}


def hosts_query(f: HostFilters) -> sa.Select:
    """Host households matching the filters, by name."""
    query = sa.select(HostHousehold)
    text = f.q.strip()
    if text:
        ref = normalise(text)
        like = f"%{text.lower()}%"
        # Only a text of digits (and spaces) is a postal code: a reference's digits ("V-1EYV-QGKP") are not.
        compact = text.replace(" ", "")
        digits = compact if compact.isascii() and compact.isdigit() else ""
        conditions = [sa.func.lower(HostHousehold.contact_name).like(like),
                      sa.func.lower(HostHousehold.email).like(like)]
        if digits:
            conditions.append(sa.func.replace(HostHousehold.postal_code, " ", "").like(f"{digits}%"))
        if ref:
            conditions.append(HostHousehold.reference == ref)
        query = query.where(sa.or_(*conditions))
    if f.vetting:
        query = query.where(HostHousehold.vetting_status == f.vetting)
    if f.state:
        query = query.where(HostHousehold.state == f.state)
    if f.area:
        query = query.where(sa.func.replace(HostHousehold.postal_code, " ", "").like(f"{f.area}%"))
    if f.min_beds:
        query = query.where(HostHousehold.beds - HostHousehold.beds_used >= f.min_beds)
    if f.language:
        # The codes are stored as a JSON list; its text holds each code in quotes on SQLite and PostgreSQL.
        query = query.where(sa.cast(HostHousehold.languages, sa.String).like(f'%"{f.language}"%'))
    if f.step_free:
        query = query.where(HostHousehold.step_free.is_(True))
    if f.no_pets:
        query = query.where(HostHousehold.has_pets.is_(False))
    return query.order_by(HostHousehold.contact_name, HostHousehold.id)


def bounded_count(query: sa.Select, page: int) -> tuple[int, bool]:
    """Rows of `query` counted up to COUNT_CAP or just past `page`: (that count, whether there are more)."""
    cap = max(COUNT_CAP, page * PER_PAGE + 1)
    sub = query.order_by(None).with_only_columns(HostHousehold.id).limit(cap + 1).subquery()
    n = db.session.scalar(sa.select(sa.func.count()).select_from(sub)) or 0
    return min(n, cap), n > cap


# --- the host's answer after a stay ("can you take another family?") ------------------------------------

ANOTHER_FAMILY_ACTIONS = ("host_another_family_yes", "host_another_family_no")


def another_family_words(hosts) -> dict:
    """For each host asked after a stay whether they can take another family: the answer in words, by host id.

    Waiting for an answer comes from the host row; the answer itself from the host's audited choice.
    """
    from flask_babel import gettext as _

    from ebo.models import AuditEvent
    from ebo.ui import format_date_safe

    out = {h.id: _("Asked after a stay whether they can take another family: no answer yet (asked %(date)s)",
                   date=format_date_safe(h.another_family_asked_at))
           for h in hosts if h.another_family_asked_at is not None}
    rest = {str(h.id): h.id for h in hosts if h.another_family_asked_at is None}
    if rest:
        for oid, action, at in db.session.execute(
            sa.select(AuditEvent.object_id, AuditEvent.action, AuditEvent.at)
            .where(AuditEvent.action.in_(ANOTHER_FAMILY_ACTIONS), AuditEvent.object_type == "host",
                   AuditEvent.object_id.in_(list(rest)))
            .order_by(AuditEvent.id.desc())
        ):
            hid = rest.get(oid)
            if hid is None or hid in out:
                continue  # only the latest answer counts
            out[hid] = (_("After a stay: can take another family (answered %(date)s)", date=format_date_safe(at))
                        if action == "host_another_family_yes" else
                        _("After a stay: cannot take another family for now, so the offer is paused "
                          "(answered %(date)s)", date=format_date_safe(at)))
    return out
