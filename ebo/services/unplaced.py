"""The unplaced families of a run and the matcher's reasons, in words a coordinator reads.

The reasons are worked out once, when the run finishes (`store_reasons`, worker side, from the instance
and solution just solved: `matching.explain`), and stored as structured rows (`RunUnplaced`: counts,
dates, distances and school ids, no personal values). A page reads one page of them
(`unplaced_page`) and puts them into the current language; a reason that could not be worked out is
shown as the solution's stored (English) sentence, with ids replaced by school names.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import format_date, format_decimal

from ebo.extensions import db
from ebo.i18n import gettext as _
from ebo.i18n import ngettext
from ebo.models import Family, MatchingRun, RunUnplaced, School
from ebo.pagination import rows_page
from matching import schema as ms
from matching.explain import explain_details, forget_instance

log = logging.getLogger(__name__)

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PER_PAGE = 25
REF_LEN = 8


def school_names(ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """The names of the schools with these ids (None ignored)."""
    ids = {i for i in ids if i is not None}
    if not ids:  # nothing to look up: no statement
        return {}
    return dict(db.session.execute(sa.select(School.id, School.name).where(School.id.in_(ids))).all())


# --- stored once, when the run finishes ---------------------------------------------------------------


def reason_records(inst: ms.Instance | None, sol: ms.Solution, entry: ms.Unplaced,
                   family: ms.Family | None) -> list[dict]:
    """The stored form of one unplaced family's reasons: matching.explain's rule and params (and its
    English sentence), or only the solution's sentences when the reasons cannot be worked out."""
    if inst is not None and family is not None:
        try:
            return [{"rule": d["rule"], "params": d.get("params") or {}, "text": d.get("text") or ""}
                    for d in explain_details(inst, sol, family)]
        except Exception:  # an odd instance: keep the solution's own sentences
            log.warning("could not explain why family %s was not placed", entry.family_id, exc_info=True)
    return [{"text": r} for r in entry.reasons]


def store_reasons(run: MatchingRun, inst: ms.Instance | None, sol: ms.Solution) -> int:
    """Store the run's unplaced families with their reasons (worker side, in the run's result
    transaction; nothing is committed here); returns how many."""
    families = {f.id: f for f in inst.families} if inst is not None else {}
    rows = []
    try:
        for i, entry in enumerate(sol.unplaced):
            rows.append({"id": uuid.uuid4(), "run_id": run.id, "position": i, "family_id": _uuid(entry.family_id),
                         "ref": str(entry.family_id)[:REF_LEN],
                         "reasons": reason_records(inst, sol, entry, families.get(entry.family_id))})
    finally:
        forget_instance()  # the explainer's arrays of this instance are not needed by any page
    if rows:
        db.session.flush()
        db.session.execute(sa.insert(RunUnplaced), rows)
    return len(rows)


def _uuid(raw) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError):
        return None


# --- read one page ------------------------------------------------------------------------------------


@dataclass
class UnplacedRow:
    """One unplaced family as the review lists it: its short reference and its reasons in words."""

    ref: str
    reasons: list[str]
    family_id: uuid.UUID | None = None  # the family, while it is still registered (for the profile link)
    reference: str = ""  # the family's human reference, or the short id when the family is gone


@functools.cache
def _page_statement() -> sa.Select:
    """One page of a run's unplaced rows (run_id, offset, limit bound), with the family's reference while the
    family is still registered: plain columns, one statement, built once."""
    return (
        sa.select(RunUnplaced.ref, RunUnplaced.reasons, RunUnplaced.family_id, Family.reference)
        .outerjoin(Family, Family.id == RunUnplaced.family_id)
        .where(RunUnplaced.run_id == sa.bindparam("run_id"))
        .order_by(RunUnplaced.position)
        .offset(sa.bindparam("offset", type_=sa.Integer)).limit(sa.bindparam("limit", type_=sa.Integer))
    )


def unplaced_page(run: MatchingRun, page: int = 1, per_page: int | None = None):
    """One page of the run's unplaced families (a Pagination of UnplacedRow), in the current language."""
    per_page, page = per_page or PER_PAGE, max(1, page)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(RunUnplaced).where(RunUnplaced.run_id == run.id))
    rows = db.session.execute(_page_statement(), {"run_id": run.id, "offset": (page - 1) * per_page,
                                                   "limit": per_page}).all()
    items = _in_words(rows, {r.family_id: r.reference for r in rows if r.reference is not None})
    return rows_page(items, page, per_page, total or 0)


def in_words(rows: list[RunUnplaced]) -> list[UnplacedRow]:
    """Stored unplaced rows with their reasons in the current language (school names looked up once)."""
    known = [r.family_id for r in rows if r.family_id is not None]
    refs = dict(db.session.execute(sa.select(Family.id, Family.reference).where(Family.id.in_(known))).all())
    return _in_words(rows, refs)


def _in_words(rows, refs: dict) -> list[UnplacedRow]:
    """Rows with `ref`, `reasons` and `family_id`, in words; `refs` are the references of the families still
    registered."""
    ids: set[str] = set()
    for r in rows:
        for d in r.reasons or []:
            p = d.get("params") or {}
            for step in [p, *(p.get("steps") or [])]:
                if (step.get("arg") or {}).get("school") is not None:
                    ids.add(str(step["arg"]["school"]))
            ids.update(UUID_RE.findall(d.get("text") or "") if "rule" not in d else ())
    names = _school_names_by_str(ids)
    return [UnplacedRow(ref=r.ref, reasons=[_one(d, names) for d in r.reasons or []],
                        family_id=r.family_id if r.family_id in refs else None,
                        reference=refs.get(r.family_id) or r.ref) for r in rows]


def reasons_for_family(run: MatchingRun, family_id: uuid.UUID) -> list[str]:
    """Why the run did not place this family, in the current language (empty when it was placed)."""
    row = db.session.scalar(sa.select(RunUnplaced).where(RunUnplaced.run_id == run.id,
                                                          RunUnplaced.family_id == family_id))
    return in_words([row])[0].reasons if row is not None else []


def _one(d: dict, names: dict[str, str]) -> str:
    if "rule" in d:
        try:
            return reason_words(d, names)
        except (KeyError, TypeError, ValueError):
            log.warning("a stored reason could not be put into words: %s", d.get("rule"))
    return UUID_RE.sub(lambda m: names.get(m.group(0), _("another record")), d.get("text") or "")


def _school_names_by_str(ids) -> dict[str, str]:
    wanted = set()
    for i in ids:
        try:
            wanted.add(uuid.UUID(str(i)))
        except (TypeError, ValueError):
            continue
    return {str(k): v for k, v in school_names(wanted).items()}


def _hosts_words(n: int) -> str:
    return ngettext("%(num)d host", "%(num)d hosts", n)


def _step_words(step: dict, names: dict[str, str]) -> str:
    """One narrowing step of the hard-rule chain: "2 that accept children"."""
    rule, k, arg = step["rule"], step["count"], step.get("arg") or {}
    if rule == "children":
        return _("%(num)d that accept children", num=k)
    if rule == "step_free":
        return _("%(num)d with step-free access", num=k)
    if rule == "pets":
        return _("%(num)d without pets", num=k)
    if rule == "smoking":
        return _("%(num)d that are non-smoking", num=k)
    if rule == "availability":
        return ngettext("%(count)d available from %(date)s for %(days)d day",
                        "%(count)d available from %(date)s for %(days)d days", int(arg["days"]),
                        count=k, date=_date_words(arg["date"]), days=int(arg["days"]))
    if rule == "school":
        return _("%(num)d within %(km)s km of %(school)s", num=k, km=format_decimal(arg["km"]),
                 school=_school_word(arg["school"], names))
    if rule == "forbidden":
        return _("%(num)d that have not declined and were not vetoed", num=k)
    raise KeyError(rule)


def _date_words(iso: str) -> str:
    return format_date(dt.date.fromisoformat(iso))


def _school_word(sid: str, names: dict[str, str]) -> str:
    return names.get(str(sid), _("another record"))


def _chain_words(p: dict, names: dict[str, str]) -> str:
    """The hosts the chain is left with: "2 hosts with 3 beds, 1 that accept children"."""
    head = _("%(hosts)s with %(beds)s", hosts=_hosts_words(int(p["hosts"])),
             beds=ngettext("%(num)d bed", "%(num)d beds", int(p["size"])))
    return ", ".join([head, *(_step_words(s, names) for s in p.get("steps") or [])])


def reason_words(d: dict, names: dict[str, str]) -> str:
    """One reason of matching.explain.explain_details in the current language."""
    rule, p = d["rule"], d.get("params") or {}
    if rule == "capacity":
        if p.get("hosts") == 0:
            return _("there are no hosts")
        return ngettext("no host has %(num)d bed", "no host has %(num)d beds", int(p["size"]))
    if rule == "taken":
        return ngettext("%(num)d host fits; it was used for another family",
                        "%(num)d hosts fit; all were used for other families", int(p["n"]))
    if rule == "cost":
        return ngettext("%(num)d host fits and %(r)d still had room, but placing the family there would not "
                        "lower the total cost",
                        "%(num)d hosts fit and %(r)d still had room, but placing the family there would not "
                        "lower the total cost", int(p["n"]), r=int(p["r"]))
    if rule == "unit":
        return _("there are no municipal units")
    if rule == "unit_step_free":
        return _("needs step-free access: no municipal unit has it")
    if rule == "unit_beds":
        # "Left after the run's proposals": the Move page counts a unit's beds the same way (capacity.room_in_run).
        return ngettext("no municipal unit had %(num)d bed left after this run's proposals (most left: %(free)d)",
                        "no municipal unit had %(num)d beds left after this run's proposals (most left: %(free)d)",
                        int(p["size"]), free=int(p["free"]))
    if rule == "unit_cost":
        return _("a municipal unit had room, but it would cost more than leaving the family unplaced")
    hosts = _chain_words(p, names)
    arg = p.get("arg") or {}
    if rule == "children":
        return _("of the %(hosts)s, none accepts children", hosts=hosts)
    if rule == "step_free":
        return _("of the %(hosts)s, none has step-free access", hosts=hosts)
    if rule == "pets":
        return _("of the %(hosts)s, none is free of pets (pet allergy)", hosts=hosts)
    if rule == "smoking":
        return _("of the %(hosts)s, none is non-smoking", hosts=hosts)
    if rule == "availability":
        days = int(arg["days"])
        return ngettext("of the %(hosts)s, none is available from %(date)s for %(days)d day",
                        "of the %(hosts)s, none is available from %(date)s for %(days)d days", days,
                        hosts=hosts, date=_date_words(arg["date"]), days=days)
    if rule == "school":
        return _("of the %(hosts)s, none is within %(km)s km of %(school)s", hosts=hosts,
                 km=format_decimal(arg["km"]), school=_school_word(arg["school"], names))
    if rule == "forbidden":
        return _("of the %(hosts)s, all have declined this family or were vetoed for it", hosts=hosts)
    raise KeyError(rule)
