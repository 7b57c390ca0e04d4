"""Template helpers: the menu for each role and role names in the user's language."""

from __future__ import annotations

import functools
import uuid

from flask import Flask, current_app, request, url_for
from flask_babel import format_date, format_decimal
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ebo.permissions import ADMIN, CASEWORKER, COORDINATOR, HOST

ROLE_LABELS = {HOST: _l("host"), COORDINATOR: _l("coordinator"), CASEWORKER: _l("caseworker"),
               ADMIN: _l("administrator")}

# Menu entries per role.
NAV: dict[str, list[tuple[str, object]]] = {
    HOST: [("hosts.dashboard", _l("My offer"))],
    COORDINATOR: [("vetting.queue", _l("Vetting")), ("vetting.hosts", _l("Hosts")), ("runs.index", _l("Matching")),
                  ("placements.index", _l("Placements")), ("schools.index", _l("Schools")),
                  ("units.index", _l("Housing units")), ("preparedness.dashboard", _l("Plus 5 %"))],
    CASEWORKER: [("families.index", _l("Families")), ("schools.index", _l("Schools")),
                 ("units.index", _l("Housing units")), ("placements.index", _l("Placements")),
                 ("preparedness.dashboard", _l("Plus 5 %"))],
    ADMIN: [("admin.users", _l("Accounts")), ("admin.settings", _l("Settings")), ("admin.audit", _l("Audit log")),
            ("families.index", _l("Families")), ("placements.overview", _l("Placements")),
            ("preparedness.dashboard", _l("Plus 5 %")), ("cards.partners", _l("Card partners"))],
}


def nav_items() -> list[tuple[str, object]]:
    """The menu entries for the current user's role."""
    if not current_user.is_authenticated:
        return []
    return NAV.get(current_user.role, [])


def role_label(role: str) -> str:
    """The role's name in the current language."""
    return str(ROLE_LABELS.get(role, role))


STATUS_LABELS = {
    # families
    "waiting": _l("waiting"), "proposed": _l("proposed"), "placed": _l("placed"), "moved_on": _l("moved on"),
    # host vetting and state
    "registered": _l("registered"), "visited": _l("visited"), "approved": _l("approved"),
    "rejected": _l("rejected"), "active": _l("active"), "paused": _l("paused"), "withdrawn": _l("withdrawn"),
    # runs
    "queued": _l("queued"), "running": _l("running"), "done": _l("done"), "failed": _l("failed"),
    # proposals
    "sent": _l("sent to host"), "accepted": _l("accepted by host"), "declined": _l("declined by host"),
    "confirmed": _l("confirmed"), "superseded": _l("superseded by a newer run"),
    "expired": _l("lapsed: no answer in time"),
}


# Audit events in words (the stored action name stays the key; an unlisted one is shown as it is).
ACTION_LABELS = {
    "login": _l("logged in"), "logout": _l("logged out"), "login_failed": _l("failed to log in"),
    "password_changed": _l("changed the password"), "password_rehashed": _l("password storage updated"),
    "authz_denied": _l("was refused a page"), "view_family": _l("viewed a family"),
    "family_created": _l("registered a family"), "family_updated": _l("changed a family"),
    "family_status": _l("changed a family's status"), "health_note_added": _l("added a health note"),
    "health_note_changed": _l("changed a health note"), "health_note_removed": _l("removed a health note"),
    "host_registered": _l("registered as a host"), "host_viewed": _l("viewed a host"),
    "host_approved": _l("approved a host"), "host_geocoded": _l("looked up a host's address"),
    "host_offer_updated": _l("changed a host offer"), "host_reconfirmed": _l("reconfirmed a host offer"),
    "home_visit_recorded": _l("recorded a home visit"), "run_started": _l("started a matching run"),
    "proposal_approved": _l("approved a proposal"), "proposals_approved": _l("approved proposals"),
    "proposal_rejected": _l("rejected a proposal"), "proposal_moved": _l("moved a proposal"),
    "proposals_sent": _l("sent proposals to hosts"), "proposal_accepted": _l("accepted a proposal"),
    "proposal_answer_recorded": _l("recorded a host's answer"), "placement_confirm": _l("confirmed a placement"),
    "placement_end": _l("ended a placement"), "follow_up_done": _l("recorded a follow-up visit"),
    "permit_decision": _l("recorded a permit decision"), "export": _l("exported data"),
    "import_families": _l("imported families"), "import_schools": _l("imported schools"),
    "import_addresses": _l("imported addresses"), "user_created": _l("created an account"),
    "user_activated": _l("activated an account"), "role_changed": _l("changed a role"),
    "settings_changed": _l("changed the settings"), "account_erased": _l("erased an account"),
    "purge": _l("deleted old data"), "school_created": _l("added a school"), "unit_created": _l("added a unit"),
    "school_updated": _l("changed a school"), "unit_updated": _l("changed a unit"),
    "login_throttled": _l("was stopped after too many login attempts"),
    "throttled": _l("was stopped after too many attempts"),
    "password_reset_requested": _l("asked for a new password"),
    "password_reset_throttled": _l("was stopped after asking for too many new passwords"),
    "password_reset": _l("set a new password with an emailed link"),
    "password_confirm_failed": _l("typed a wrong password to confirm"),
    "password_confirm_throttled": _l("was stopped after too many wrong passwords"),
    "invitation_accepted": _l("accepted an invitation"), "user_invited": _l("invited a new staff member"),
    "user_deactivated": _l("deactivated an account"),
    "email_verification_sent": _l("was sent a link to confirm the email address"),
    "email_verification_throttled": _l("asked for too many confirmation links"),
    "email_verified": _l("confirmed the email address"),
    "email_change_requested": _l("asked to change the email address"),
    "email_changed": _l("changed the email address"),
    "registration_existing_address": _l("tried to register with an address already in use"),
    "mfa_enrolled": _l("turned on two-step login"), "mfa_disabled": _l("turned off two-step login"),
    "mfa_reset": _l("reset someone's two-step login"), "mfa_failed": _l("typed a wrong login code"),
    "mfa_throttled": _l("was stopped after too many wrong login codes"),
    "mfa_fresh": _l("confirmed with a login code"), "mfa_recovery_code_used": _l("used a recovery code"),
    "mfa_recovery_codes_renewed": _l("made new recovery codes"),
    "card_issue": _l("issued a welcome card"), "card_reissue": _l("reissued a welcome card"),
    "card_suspend": _l("suspended a welcome card"), "card_resume": _l("made a welcome card work again"),
    "card_withdraw": _l("withdrew a welcome card"), "card_replace": _l("replaced a welcome card"),
    "card_view": _l("viewed a welcome card"), "card_print": _l("printed a welcome card"),
    "card_pdf": _l("downloaded a welcome card"), "card_list_view": _l("viewed a family's welcome cards"),
    "card_photo_view": _l("viewed a card photo"), "card_partner_save": _l("saved a card partner"),
    "run_cancelled": _l("cancelled a matching run"),
    "placement_resized": _l("changed the number of persons in a placement"),
    "placement_over_capacity": _l("a family grew beyond its home's beds"),
    "proposal_over_capacity": _l("a proposed family grew beyond the home's beds"),
    "proposal_declined": _l("declined a proposal"), "proposal_expired": _l("a proposal lapsed without an answer"),
    "host_rejected": _l("rejected a host"), "host_paused": _l("paused a host offer"),
    "host_resumed": _l("opened a host offer again"), "host_withdrawn": _l("withdrew a host offer"),
    "host_asked_another_family": _l("asked a host whether they can take another family"),
    "host_another_family_yes": _l("said yes to another family"),
    "host_another_family_no": _l("said no to another family for now"),
    "demo_loaded": _l("loaded the demo municipality"), "demo_logins_reset": _l("gave the demo logins new passwords"),
}


def action_label(action: str) -> str:
    """An audit event's action in words."""
    return str(ACTION_LABELS.get(action, action))


def format_date_safe(value) -> str:
    """A date in the user's language, or a dash."""
    return format_date(value) if value else "–"


def format_datetime_safe(value, seconds: bool = False) -> str:
    """A date and time in the user's language and time zone ("1 dec. 2026 09:18"), or a dash.

    The date is written as everywhere else (the locale's medium date), the time as the locale's short
    time (with seconds when `seconds`), joined the locale's way.
    """
    if not value:
        return "–"
    from babel.dates import get_datetime_format
    from flask_babel import format_time, get_locale

    pattern = get_datetime_format("medium", locale=get_locale()).replace("'", "")
    time = format_time(value, "medium" if seconds else "short")
    return pattern.replace("{1}", format_date(value)).replace("{0}", time)


def datetime_formatter(seconds: bool = False):
    """`format_datetime_safe` as a function of one value, for a table's rows: the same text, with the locale,
    time zone and patterns looked up once and each day's date written once."""
    import datetime as dt

    from babel import dates
    from babel.dates import get_datetime_format
    from flask_babel import _get_format, get_locale, get_timezone

    locale, tz = get_locale(), get_timezone()
    pattern = get_datetime_format("medium", locale=locale).replace("'", "")
    date_format, time_format = _get_format("date", None), _get_format("time", "medium" if seconds else "short")
    days: dict = {}

    def fmt(value) -> str:
        if not isinstance(value, dt.datetime):
            return format_datetime_safe(value, seconds)
        local = tz.normalize((value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(tz))
        day = local.date()
        if day not in days:  # format_date of the datetime in the user's zone, as flask_babel does
            days[day] = dates.format_date(local, date_format, locale=locale)
        time = dates.format_time(value, time_format, locale=locale, tzinfo=tz)
        return pattern.replace("{1}", days[day]).replace("{0}", time)

    return fmt


def remembered(fn):
    """`fn` of one value, remembering its answers: for a table's rows, which show the same few values (beds,
    dates, languages) again and again. Lists are remembered by their items; other unhashable values are
    not remembered. Made anew for each page (one language). `fn` may be a template filter's name."""
    if isinstance(fn, str):
        fn = current_app.jinja_env.filters[fn]
    seen: dict = {}

    def call(value):
        key = tuple(value) if isinstance(value, list) else value
        try:
            return seen[key]
        except KeyError:
            out = seen[key] = fn(value)
            return out
        except TypeError:
            return fn(value)

    return call


def words_of(mapping):
    """A mapping's labels (lazy strings) as text, each translated once per page: `mapping.get(key, key)`."""
    return remembered(lambda key: str(mapping.get(key, key)))


def format_number_safe(value) -> str:
    """A number with the user's grouping, or a dash."""
    return format_decimal(value) if value is not None else "–"


@functools.lru_cache(maxsize=16)
def _number_pattern(pattern: str):
    """A parsed Babel number pattern (Babel parses the text again on every call otherwise)."""
    from babel.numbers import parse_pattern

    return parse_pattern(pattern)


def format_km(value) -> str:
    """A distance in kilometres with one decimal in the user's locale ("0,1" in Swedish), or a dash."""
    return format_decimal(value, format=_number_pattern("#,##0.0")) if value is not None else "–"


def format_position(lat, lon) -> str:
    """A map position in the user's locale ("59,3780° N, 17,0160° Ö" in Swedish), or a dash."""
    from flask_babel import gettext as _

    if lat is None or lon is None:
        return "–"
    return _("%(lat)s° N, %(lon)s° E", lat=format_decimal(lat, format="0.0000"),
             lon=format_decimal(lon, format="0.0000"))


def format_percent_safe(value, digits: int = 1) -> str:
    """A share (0.001 is 0.1 %) as a percentage in the user's locale, or a dash."""
    if value is None:
        return "–"
    return format_decimal(value * 100, format="#,##0." + "0" * digits if digits else "#,##0") + "\u00a0%"


def language_list(codes) -> str:
    """Language codes as names in the user's language, comma-separated, or a dash."""
    from ebo.languages import LANGUAGE_NAMES

    return ", ".join(str(LANGUAGE_NAMES.get(c, c)) for c in codes or []) or "–"


def run_quality(status: str | None, gap: float | None) -> str:
    """How good a run's distribution is, in plain words (no solver terms)."""
    from flask_babel import gettext as _

    if status == "OPTIMAL":
        return _("The best possible distribution (proven)")
    if status == "FEASIBLE":
        if gap is not None:
            # Round the share up, so "at most" stays true.
            pct = max(0.1, -(-gap * 1000 // 1) / 10)
            return _("Close to the best possible: at most %(pct)s from the best", pct=format_percent_safe(pct / 100))
        return _("A good distribution; the best possible was not proven in the time given")
    return _("Not known")


def progress_words(message: str | None, state: str | None = None) -> str:
    """A run's current step in plain words (the worker's internal step names are not shown)."""
    from flask_babel import gettext as _

    if state == "queued":
        return _("Waiting for its turn")
    if message == "building the instance":
        return _("Collecting the families, homes and schools that take part")
    if message == "done" or state == "done":
        return _("Done")
    if message == "failed" or state == "failed":
        return _("Failed")
    return _("Looking for the best distribution")


def page_url(number: int, arg: str = "page", anchor: str | None = None) -> str:
    """The current page's URL with the same filters and another page number (in `arg`), at `anchor`."""
    args = {**request.args.to_dict(), arg: number}
    return url_for(request.endpoint, **(request.view_args or {}), **args, _anchor=anchor or None)


def url_for_safe(endpoint: str, **values) -> str | None:
    """The URL of `endpoint`, or None while that feature is not installed."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


def url_maker(endpoint: str, slot: str, **values):
    """A function of one value giving `url_for(endpoint, **values, slot=value)`, for a table's rows.

    The URL is built once (with a marker in `slot`) and each row's URL is the marker replaced: a page of
    25 rows with five links each would otherwise spend a noticeable part of its time building URLs.
    """
    marker = str(uuid.UUID(int=0x0E0B0E0B0E0B4E0B8E0B0E0B0E0B0E0B))
    head, found, tail = url_for(endpoint, **values, **{slot: marker}).partition(marker)
    if not found:  # pragma: no cover - a converter that changes the value
        return lambda value: url_for(endpoint, **values, **{slot: value})
    return lambda value: f"{head}{value}{tail}"


def init_app(app: Flask) -> None:
    """Expose the helpers to templates."""
    app.jinja_env.globals.update(nav_items=nav_items, role_label=role_label, url_for_safe=url_for_safe,
                                 page_url=page_url, status_labels=STATUS_LABELS, role_labels=ROLE_LABELS,
                                 run_quality=run_quality, progress_words=progress_words, action_label=action_label,
                                 format_position=format_position, url_maker=url_maker,
                                 datetime_formatter=datetime_formatter, remembered=remembered, words_of=words_of)
    app.jinja_env.filters.update(format_date_safe=format_date_safe, format_datetime_safe=format_datetime_safe,
                                 format_number_safe=format_number_safe, format_km=format_km,
                                 format_percent_safe=format_percent_safe, language_list=language_list)
