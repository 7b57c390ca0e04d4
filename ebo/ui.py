"""Template helpers: the menu for each role and role names in the user's language."""

from __future__ import annotations

from flask import Flask, current_app, request, url_for
from flask_babel import format_date, format_datetime, format_decimal
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ebo.permissions import ADMIN, CASEWORKER, COORDINATOR, HOST

ROLE_LABELS = {HOST: _l("host"), COORDINATOR: _l("coordinator"), CASEWORKER: _l("caseworker"),
               ADMIN: _l("administrator")}

# Menu entries per role.
NAV: dict[str, list[tuple[str, object]]] = {
    HOST: [("hosts.dashboard", _l("My offer"))],
    COORDINATOR: [("vetting.queue", _l("Vetting")), ("runs.index", _l("Matching")),
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
    "confirmed": _l("confirmed"),
}


def format_date_safe(value) -> str:
    """A date in the user's language, or a dash."""
    return format_date(value) if value else "–"


def format_datetime_safe(value) -> str:
    """A date and time in the user's language and time zone, or a dash."""
    return format_datetime(value, "short") if value else "–"


def format_number_safe(value) -> str:
    """A number with the user's grouping, or a dash."""
    return format_decimal(value) if value is not None else "–"


def format_km(value) -> str:
    """A distance in kilometres with one decimal in the user's locale ("0,1" in Swedish), or a dash."""
    return format_decimal(value, format="#,##0.0") if value is not None else "–"


def format_percent_safe(value, digits: int = 1) -> str:
    """A share (0.001 is 0.1 %) as a percentage in the user's locale, or a dash."""
    if value is None:
        return "–"
    return format_decimal(value * 100, format="#,##0." + "0" * digits if digits else "#,##0") + "\u00a0%"


def language_list(codes) -> str:
    """Language codes as names in the user's language, comma-separated, or a dash."""
    from ebo.languages import LANGUAGE_NAMES

    return ", ".join(str(LANGUAGE_NAMES.get(c, c)) for c in codes or []) or "–"


def page_url(number: int) -> str:
    """The current page's URL with the same filters and another page number."""
    args = {**request.args.to_dict(), "page": number}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def url_for_safe(endpoint: str, **values) -> str | None:
    """The URL of `endpoint`, or None while that feature is not installed."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


def init_app(app: Flask) -> None:
    """Expose the helpers to templates."""
    app.jinja_env.globals.update(nav_items=nav_items, role_label=role_label, url_for_safe=url_for_safe,
                                 page_url=page_url, status_labels=STATUS_LABELS, role_labels=ROLE_LABELS)
    app.jinja_env.filters.update(format_date_safe=format_date_safe, format_datetime_safe=format_datetime_safe,
                                 format_number_safe=format_number_safe, format_km=format_km,
                                 format_percent_safe=format_percent_safe, language_list=language_list)
