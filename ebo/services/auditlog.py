"""Searching the audit log: by family, by user, by action; newest first, paginated."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ebo.extensions import db
from ebo.models import AuditEvent, Role, User

PER_PAGE = 50


@dataclass
class AuditFilters:
    """What to look for; every part optional."""

    family_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    action: str = ""


def parse_uuid(value: str | None) -> uuid.UUID | None:
    """A UUID from text, or None when blank or not a UUID."""
    try:
        return uuid.UUID((value or "").strip())
    except ValueError:
        return None


def family_from_text(text: str | None) -> uuid.UUID | None:
    """The family meant by a reference ("F-7K3M-9Q2X") or an id typed into the filter, or None."""
    from ebo.models import Family

    found = parse_uuid(text)
    if found is not None:
        return found
    ref = (text or "").strip().upper()
    if not ref:
        return None
    return db.session.scalar(sa.select(Family.id).where(Family.reference == ref))


def family_reference(family_id: uuid.UUID | None) -> str | None:
    """The family's reference, for showing the filter in words (None when unknown)."""
    from ebo.models import Family

    if family_id is None:
        return None
    return db.session.scalar(sa.select(Family.reference).where(Family.id == family_id))


def search(f: AuditFilters, page: int = 1):
    """One page of audit events, newest first."""
    query = sa.select(AuditEvent)
    if f.family_id is not None:
        query = query.where(AuditEvent.object_type == "family", AuditEvent.object_id == str(f.family_id))
    if f.user_id is not None:
        query = query.where(AuditEvent.actor_id == f.user_id)
    if f.action:
        query = query.where(AuditEvent.action == f.action[:40])
    return db.paginate(query.order_by(AuditEvent.id.desc()), page=max(1, page), per_page=PER_PAGE,
                       error_out=False)


def actors(events) -> dict:
    """The users behind a page of events, by id (erased users are simply absent)."""
    # One query even when empty: a page's statements do not depend on which events it shows.
    ids = {e.actor_id for e in events if e.actor_id is not None}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def actions() -> list[str]:
    """The actions present in the log, for the filter.

    Read by skipping from one action to the next along the index on `action` (a recursive query: one
    index probe per distinct action) rather than a DISTINCT over every event, since the log only grows."""
    e = AuditEvent
    found = sa.select(sa.func.min(e.action).label("action")).cte("actions", recursive=True)
    found = found.union_all(
        sa.select(sa.select(sa.func.min(e.action)).where(e.action > found.c.action).scalar_subquery())
        .where(found.c.action.is_not(None)))
    return list(db.session.scalars(sa.select(found.c.action).where(found.c.action.is_not(None))
                                   .order_by(found.c.action)))


def staff_users():
    """Staff accounts, for the 'by user' filter (ids, never emails, go into the URL)."""
    staff = sorted(r.value for r in Role if r != Role.HOST)  # IN rather than !=: read from the role index
    return db.session.scalars(sa.select(User).where(User.role.in_(staff)).order_by(User.name, User.email)).all()


# --- events in words ----------------------------------------------------------------------------------

# Where a view was made (details "page" and "via").
PAGE_WORDS = {
    "detail": _l("the family page"), "edit": _l("the family's form"), "profile": _l("the matching profile"),
    "placement": _l("a placement"), "waiting": _l("the list of families waiting long"),
    "card": _l("the card page"), "print": _l("the printed card"), "pdf": _l("the card as PDF"),
    "view": _l("the card page"),
}
LOGIN_FAILED_WORDS = {"password": _l("wrong password"), "unknown": _l("no account with that address"),
                      "inactive": _l("the account is not active")}
THROTTLE_WORDS = {"address": _l("too many attempts from one network address"),
                  "account": _l("too many attempts for one account")}
FILE_WORDS = {"instance": _l("the run's input"), "solution": _l("the run's result"),
              "host_self": _l("the host's own data")}
PLACE_WORDS = {"host": _l("with a host"), "unit": _l("in a municipal unit")}
ERASE_WORDS = {"pseudonymised": _l("the name and contact details were removed, the history kept"),
               "deleted": _l("deleted")}


# Yes/no details in words (yes, no; None where the event says nothing for it).
BOOL_WORDS = {"accepted": (_l("accepted"), _l("declined")), "photo": (_l("with a photo"), _l("without a photo")),
              "unplanned": (_l("not planned"), _l("planned")), "revet": (_l("to be vetted again"), None),
              "account": (_l("the account exists"), _l("no such account")),
              "taken": (_l("the address was already in use"), None)}


@dataclass
class AuditLine:
    """One audit event as the log shows it: who, what, on what, and the details, all in words."""

    event: AuditEvent
    who: str
    who_id: uuid.UUID | None
    what: str
    object_label: str
    object_url: str | None
    details: list[str]


def _short(value) -> str:
    return str(value or "")


def _objects(events) -> dict[tuple[str, str], tuple[str, str | None]]:
    """A label (and a link, if any) for each object the events are about, looked up with one query per kind."""
    from flask import url_for

    from ebo.models import Family, HostHousehold, MatchingRun, Placement, Proposal, School, WelcomeCard
    from ebo.models import HousingUnit as Unit
    from ebo.ui import format_datetime_safe

    wanted: dict[str, set[uuid.UUID]] = {}
    for e in events:
        oid = parse_uuid(e.object_id)
        if e.object_type and oid is not None:
            wanted.setdefault(e.object_type, set()).add(oid)
    out: dict[tuple[str, str], tuple[str, str | None]] = {}

    def rows(*cols, where):
        return db.session.execute(sa.select(*cols).where(where)).all()

    families: dict[uuid.UUID, str] = {}
    fam_of: dict[tuple[str, uuid.UUID], uuid.UUID] = {}
    if ids := wanted.get("proposal"):
        for pid, fid in rows(Proposal.id, Proposal.family_id, where=Proposal.id.in_(ids)):
            fam_of[("proposal", pid)] = fid
    if ids := wanted.get("placement"):
        for pid, fid in rows(Placement.id, Placement.family_id, where=Placement.id.in_(ids)):
            fam_of[("placement", pid)] = fid
    fam_ids = set(wanted.get("family", set())) | set(fam_of.values())
    if fam_ids:
        families = dict(rows(Family.id, Family.reference, where=Family.id.in_(fam_ids)))
    for fid in wanted.get("family", ()):
        out[("family", str(fid))] = (_("family %(ref)s", ref=families.get(fid, _("(removed)"))),
                                     url_for("admin.audit", family=fid))
    for (kind, pid), fid in fam_of.items():
        ref = families.get(fid, _("(removed)"))
        label = _("proposal for family %(ref)s", ref=ref) if kind == "proposal" else _(
            "placement of family %(ref)s", ref=ref)
        out[(kind, str(pid))] = (label, url_for("admin.audit", family=fid))
    if ids := wanted.get("host"):
        for hid, ref in rows(HostHousehold.id, HostHousehold.reference, where=HostHousehold.id.in_(ids)):
            out[("host", str(hid))] = (_("host %(ref)s", ref=ref), None)
    if ids := wanted.get("user"):
        for uid, name, email, role in rows(User.id, User.name, User.email, User.role, where=User.id.in_(ids)):
            label = _("the account of %(name)s", name=name or email) if role != Role.HOST else _("a host's account")
            out[("user", str(uid))] = (label, url_for("admin.edit_user", user_id=uid) if role != Role.HOST else None)
    if ids := wanted.get("matching_run"):
        for rid, at in rows(MatchingRun.id, MatchingRun.created_at, where=MatchingRun.id.in_(ids)):
            out[("matching_run", str(rid))] = (_("the run of %(when)s", when=format_datetime_safe(at)), None)
    if ids := wanted.get("welcome_card"):
        for cid, number in rows(WelcomeCard.id, WelcomeCard.number, where=WelcomeCard.id.in_(ids)):
            out[("welcome_card", str(cid))] = (_("welcome card %(number)s", number=number), None)
    if ids := wanted.get("school"):
        for sid, name in rows(School.id, School.name, where=School.id.in_(ids)):
            out[("school", str(sid))] = (name, None)
    if ids := wanted.get("housing_unit"):
        for uid, name in rows(Unit.id, Unit.name, where=Unit.id.in_(ids)):
            out[("housing_unit", str(uid))] = (name, None)
    return out


OBJECT_WORDS = {
    "family": _l("a family"), "host": _l("a host"), "user": _l("an account"), "proposal": _l("a proposal"),
    "placement": _l("a placement"), "placements": _l("placements"), "matching_run": _l("a matching run"),
    "welcome_card": _l("a welcome card"), "card_partner": _l("a card partner"), "school": _l("a school"),
    "housing_unit": _l("a housing unit"), "settings": _l("the municipality settings"),
    "municipality": _l("the municipality"), "address_point": _l("the address table"), "endpoint": _l("a page"),
}


def _object(e: AuditEvent, known: dict) -> tuple[str, str | None]:
    if not e.object_type:
        return "–", None
    if (e.object_type, _short(e.object_id)) in known:
        return known[(e.object_type, _short(e.object_id))]
    word = str(OBJECT_WORDS.get(e.object_type, e.object_type.replace("_", " ")))
    if e.object_type == "endpoint" and e.object_id:
        return _("%(what)s (%(name)s)", what=word, name=e.object_id), None
    if e.object_type == "family" and e.object_id is None:
        return _("families"), None
    return word, None


# Counts in words, each translated only when an event has that count (not all of them for every count).
COUNT_WORDS = {
    "members": lambda n: ngettext("%(num)d person", "%(num)d persons", n),
    "persons": lambda n: ngettext("%(num)d person", "%(num)d persons", n),
    "count": lambda n: ngettext("%(num)d record", "%(num)d records", n),
    "rows": lambda n: ngettext("%(num)d row", "%(num)d rows", n),
    "sent": lambda n: ngettext("%(num)d proposal sent", "%(num)d proposals sent", n),
    "approved": lambda n: ngettext("%(num)d approved", "%(num)d approved", n),
    "refused": lambda n: ngettext("%(num)d refused", "%(num)d refused", n),
    "live_elsewhere": lambda n: ngettext("%(num)d already proposed elsewhere", "%(num)d already proposed elsewhere", n),
    "created": lambda n: ngettext("%(num)d new", "%(num)d new", n),
    "updated": lambda n: ngettext("%(num)d updated", "%(num)d updated", n),
    "families": lambda n: ngettext("%(num)d family", "%(num)d families", n),
    "accounts": lambda n: ngettext("%(num)d account", "%(num)d accounts", n),
    "left": lambda n: ngettext("%(num)d recovery code left", "%(num)d recovery codes left", n),
    "beds": lambda n: ngettext("%(num)d bed", "%(num)d beds", n),
    "months": lambda n: ngettext("older than %(num)d month", "older than %(num)d months", n),
    "delta": lambda n: ngettext("%(num)d person more", "%(num)d persons more", n) if n >= 0 else ngettext(
        "%(num)d person fewer", "%(num)d persons fewer", -n),
}


def _count_words(key: str, n: int) -> str | None:
    words = COUNT_WORDS.get(key)
    return words(n) if words is not None else None


def _value_words(value) -> str:
    from ebo.ui import ROLE_LABELS, STATUS_LABELS

    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = str(value)
    return str(ROLE_LABELS.get(text) or STATUS_LABELS.get(text) or text)


def detail_words(e: AuditEvent) -> list[str]:
    """An event's details in words (ids of other records are left out: the object names the record)."""
    out: list[str] = []
    d = dict(e.details or {})
    if "from" in d and "to" in d:
        out.append(_("from %(old)s to %(new)s", old=_value_words(d.pop("from")), new=_value_words(d.pop("to"))))
    elif "from" in d:
        out.append(_("before: %(old)s", old=_value_words(d.pop("from"))))
    elif "to" in d:
        value = d.pop("to")
        out.append(_("to %(new)s", new=str(PLACE_WORDS.get(value) or _value_words(value))))
    for key, value in d.items():
        if key in ("family", "family_id", "proposal", "visit", "visit_id", "replaces", "endpoint", "today"):
            continue  # another record's id, or a date the event's time already says
        if isinstance(value, bool):
            words = BOOL_WORDS.get(key)
            if words and words[0 if value else 1]:
                out.append(str(words[0 if value else 1]))
            elif not words:
                out.append(_("%(what)s: %(value)s", what=key.replace("_", " "), value=_value_words(value)))
        elif isinstance(value, int) and (text := _count_words(key, value)) is not None:
            out.append(text)
        elif key in ("page", "via", "purpose") and str(value) in PAGE_WORDS:
            out.append(_("seen on %(page)s", page=PAGE_WORDS[str(value)]))
        elif key == "via":
            out.append(_("by %(way)s", way={"code": _("a login code"), "recovery": _("a recovery code"),
                                            "mfa": _("a second step")}.get(str(value), str(value))))
        elif key == "reason" and str(value) in LOGIN_FAILED_WORDS:
            out.append(str(LOGIN_FAILED_WORDS[str(value)]))
        elif key == "by" and str(value) in THROTTLE_WORDS:
            out.append(str(THROTTLE_WORDS[str(value)]))
        elif key in ("file", "kind") and str(value) in FILE_WORDS:
            out.append(str(FILE_WORDS[str(value)]))
        elif key == "place" and str(value) in PLACE_WORDS:
            out.append(str(PLACE_WORDS[str(value)]))
        elif key == "mode" and str(value) in ERASE_WORDS:
            out.append(str(ERASE_WORDS[str(value)]))
        elif key == "role":
            out.append(_("role: %(role)s", role=_value_words(value)))
        elif key == "fields" and isinstance(value, list):
            out.append(_("changed: %(fields)s", fields=", ".join(str(v).replace("_", " ") for v in value)))
        elif key == "filters" and isinstance(value, dict):
            if value:
                out.append(_("filtered"))
        elif isinstance(value, dict | list):
            continue  # structured detail: not for reading in a table
        else:
            out.append(_("%(what)s: %(value)s", what=key.replace("_", " "), value=_value_words(value)))
    return out


def in_words(events, users: dict | None = None) -> list[AuditLine]:
    """Audit events with the actor's name, the action, the object and the details in words."""
    from ebo.ui import action_label, role_label

    users = actors(events) if users is None else users
    known = _objects(events)
    lines = []
    whos: dict = {}  # a page has a handful of actors and actions: each put in words once
    whats: dict = {}
    for e in events:
        who_user = users.get(e.actor_id)
        key = (e.actor_id, bool(e.ip))
        if key not in whos:
            if who_user is not None:
                whos[key] = _("%(name)s (%(role)s)", name=who_user.name or who_user.email,
                              role=role_label(who_user.role))
            elif e.actor_id is not None:
                whos[key] = _("an account that no longer exists")
            else:
                whos[key] = _("nobody logged in") if e.ip else _("the system")
        if e.action not in whats:
            whats[e.action] = action_label(e.action)
        label, url = _object(e, known)
        lines.append(AuditLine(event=e, who=whos[key], who_id=who_user.id if who_user is not None else None,
                               what=whats[e.action], object_label=label, object_url=url,
                               details=detail_words(e)))
    return lines
