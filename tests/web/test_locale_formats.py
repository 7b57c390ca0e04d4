"""Dates and numbers in the babel locale's format everywhere (issue 14): Swedish pages write "1 dec. 2026 09:18",
"0,1 km" and "59,3780° N"; templates never format dates or decimals by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ebo.extensions import db as _db
from tests.conftest import login
from tests.factories import make_host, make_school

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
#: Raw formatting that bypasses the locale: strftime, isoformat, printf-style decimals, rounding to decimals.
RAW = re.compile(r"\.strftime\(|\.isoformat\(\)|\"%[0-9.]*f|'%[0-9.]*f|\|round\(\d")
#: Machine formats on purpose: (template, what is allowed there and why).
ALLOWED = {
    ("families/index.html", ".isoformat()"),  # the value of an <input type="date"> is ISO by the HTML standard
    ("cards/_card.html", ".isoformat()"),  # the card is read by partners in any language: one unambiguous date
    ("preparedness/drill.html", "|round(1"),  # rounded, then written by format_number_safe
}


def test_templates_format_dates_and_numbers_with_the_locale_helpers():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = str(path.relative_to(TEMPLATES))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in RAW.finditer(line):
                if not any(name == t and m.group(0).startswith(w[:len(m.group(0))]) for t, w in ALLOWED):
                    found.append(f"{name}:{n}: {line.strip()[:120]}")
    assert found == []


ISO_DATETIME = re.compile(r"\b20\d\d-\d\d-\d\d[ T]\d\d:\d\d")
DOT_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")


def _text(html: str) -> str:
    body = html.split("<main", 1)[1].split("</main>", 1)[0]
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize("role, path", [("coordinator", "/schools/"), ("coordinator", "/vetting/hosts/{host}"),
                                         ("admin", "/admin/audit"), ("admin", "/home"), ("coordinator", "/home")])
def test_swedish_pages_write_dates_and_decimals_the_swedish_way(client, make_user, db, role, path):
    school = make_school(name="Bergaskolan")
    school.lat, school.lon = 59.3780123, 17.0160456
    host = make_host(lat=59.3780123, lon=17.0160456)
    _db.session.commit()
    user = make_user(role)
    assert login(client, user).status_code == 302
    html = client.get(path.format(host=host.id)).get_data(as_text=True)
    text = _text(html)
    assert not ISO_DATETIME.search(text), ISO_DATETIME.search(text)
    assert not DOT_DECIMAL.search(text), text[max(0, DOT_DECIMAL.search(text).start() - 80):][:160]
    if "schools" in path or "vetting" in path:
        assert "59,3780° N, 17,0160° Ö" in text
    if path == "/admin/audit":
        assert re.search(r"\d{1,2} [a-zé]{3,5}\.? 20\d\d \d\d:\d\d:\d\d", text)  # "1 dec. 2026 17:59:07"


def test_views_format_numbers_and_dates_with_the_locale_helpers():
    """Views hand numbers and dates to the page through the locale's helpers, never f"{km:.1f}" or strftime."""
    root = Path(__file__).resolve().parents[2] / "ebo"
    raw = re.compile(r":\.?\d*[fg]\}|\.strftime\(")
    found = [f"{p.relative_to(root)}:{n}: {line.strip()}" for p in sorted(root.rglob("*views.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if raw.search(line)]
    assert found == []


@pytest.mark.parametrize("locale", ["sv", "en"])
def test_the_row_formatter_writes_what_format_datetime_safe_writes(app, locale):
    """A table's `datetime_formatter` gives the same text as the filter, across days, zones and summer time."""
    import datetime as dt

    from flask_babel import force_locale

    from ebo.ui import datetime_formatter, format_datetime_safe

    start = dt.datetime(2026, 3, 28, 21, 59, 58)  # Sweden moves to summer time on 29 March 2026
    values = [start + dt.timedelta(minutes=37 * i, seconds=i) for i in range(120)]
    values += [dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), dt.datetime(2026, 12, 31, 23, 0), None]
    with app.test_request_context("/"), force_locale(locale):
        for seconds in (False, True):
            fmt = datetime_formatter(seconds)
            assert [fmt(v) for v in values] == [format_datetime_safe(v, seconds) for v in values]
            assert fmt(values[5]) != fmt(values[6])
