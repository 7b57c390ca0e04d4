"""The unplaced families of a run and the matcher's reasons, in words a coordinator reads.

The reasons are worked out again from the run's stored instance and solution (`matching.explain`) and
put into the current language here; a run whose files cannot be explained again shows the solution's
stored (English) sentences instead, with ids replaced by school names.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _

from ebo.extensions import db
from ebo.models import MatchingRun, School
from matching import schema as ms
from matching.explain import explain_details

log = logging.getLogger(__name__)

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def school_names(ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """The names of the schools with these ids (None ignored)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(School.id, School.name).where(School.id.in_(ids))).all())


def unplaced_reasons(run: MatchingRun) -> list[tuple[str, list[str]]]:
    """The unplaced families (their ids, as text) with the matcher's reasons, in the current
    language: the reasons are worked out again from the run's stored instance and solution and put into
    words here; only if that fails are the solution's stored (English) sentences shown, ids made readable."""
    if not run.solution_json:
        return []
    data = json.loads(run.solution_json)
    entries = data.get("unplaced") or []
    if not entries:
        return []
    try:
        return _in_words(run, entries)
    except Exception:  # an old or odd run: show the stored (English) sentences instead
        log.warning("could not explain the unplaced families of run %s again", run.id, exc_info=True)
    ids = set()
    for e in entries:
        for r in e.get("reasons") or []:
            ids.update(UUID_RE.findall(r))
    names = {str(k): v for k, v in school_names(uuid.UUID(i) for i in ids).items()}

    def readable(text: str) -> str:
        return UUID_RE.sub(lambda m: names.get(m.group(0), _("another record")), text)

    return [(str(e["family_id"]), [readable(r) for r in e.get("reasons") or []]) for e in entries]


def _in_words(run: MatchingRun, entries: list[dict]) -> list[tuple[str, list[str]]]:
    details = _unplaced_details(run, [str(e["family_id"]) for e in entries])
    schools = set()
    for ds in details:
        for d in ds:
            for step in [d.get("params") or {}, *((d.get("params") or {}).get("steps") or [])]:
                if (step.get("arg") or {}).get("school") is not None:
                    schools.add(step["arg"]["school"])
    names = _school_names_by_str(schools)
    return [(str(e["family_id"]), [reason_words(d, names) for d in ds])
            for e, ds in zip(entries, details, strict=True)]


def _unplaced_details(run: MatchingRun, family_ids: list[str]) -> list[list[dict]]:
    """matching.explain's structured reasons for each of `family_ids`, from the run's stored files."""
    if not run.instance_json:
        raise ValueError("the run has no stored instance")
    inst = ms.instance_from_dict(json.loads(run.instance_json))
    sol = ms.solution_from_dict(json.loads(run.solution_json))
    families = {f.id: f for f in inst.families}
    return [explain_details(inst, sol, families[fid]) for fid in family_ids]


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
        return ngettext("no municipal unit has %(num)d free bed (most free: %(free)d)",
                        "no municipal unit has %(num)d free beds (most free: %(free)d)", int(p["size"]),
                        free=int(p["free"]))
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
