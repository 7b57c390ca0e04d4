"""Translations: the Swedish catalog is complete, compiled, and used; English is one click away.

When a test here fails after you added or changed a string, refresh the catalog from the repo root:

    pybabel extract -F babel.cfg -k _l -o /tmp/messages.pot .
    pybabel update -i /tmp/messages.pot -d ebo/translations
    (translate the new entries in ebo/translations/sv/LC_MESSAGES/messages.po, remove any "fuzzy" flag)
    pybabel compile -d ebo/translations
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import g, has_app_context

from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
LC = ROOT / "ebo" / "translations" / "sv" / "LC_MESSAGES"
PO = LC / "messages.po"
MO = LC / "messages.mo"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}

# %(name)s, %(n)d, ... and a bare %s / %d; "%%" and "5 %" (percent followed by a space) are text.
PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_]\w*\))?[-+ #0]*\d*(?:\.\d+)?[sdifr]")


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="sv")


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def _label(message) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
    return f"{_ids(message)[0]!r} ({where})" if where else repr(_ids(message)[0])


def test_every_message_has_a_swedish_translation_without_fuzzy_flags():
    cat = _catalog()
    messages = [m for m in cat if m.id]
    assert messages, "the Swedish catalog is empty"
    assert cat.fuzzy is False, "the catalog header is marked fuzzy"
    untranslated = [_label(m) for m in messages if not all(s and s.strip() for s in _strings(m))]
    fuzzy = [_label(m) for m in messages if m.fuzzy]
    assert not untranslated, "untranslated messages in messages.po:\n  " + "\n  ".join(untranslated)
    assert not fuzzy, "fuzzy messages (check them, then drop the flag):\n  " + "\n  ".join(fuzzy)


def test_placeholders_of_msgid_and_msgstr_match():
    wrong = []
    for m in _catalog():
        if not m.id:
            continue
        ids, strings = _ids(m), _strings(m)
        # plural forms: every Swedish form carries the placeholders of the English plural
        expected = _placeholders(ids[-1])
        for s in strings:
            if _placeholders(s) != expected:
                wrong.append(f"{_label(m)}: {expected} vs {_placeholders(s)} in {s!r}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n  " + "\n  ".join(wrong)


def _dummy_values(text: str) -> dict[str, object]:
    names = re.findall(r"%\(([A-Za-z_]\w*)\)", text)
    return {name: 1 for name in names}


def test_translations_survive_the_formatting_their_msgid_gets():
    """A msgid that is %-formatted (it has placeholders or "%%", or it sits in a template, where Jinja
    always formats) needs a msgstr that formats too: a stray "%" in Swedish would crash the page."""
    broken = []
    for m in _catalog():
        if not m.id:
            continue
        in_template = any(path.endswith(".html") for path, _line in m.locations)
        msgid = _ids(m)[-1]  # the plural form (if any) names every placeholder
        if not (in_template or _placeholders(msgid) or "%%" in msgid):
            continue
        values = _dummy_values(msgid)
        try:
            msgid % values
        except (ValueError, TypeError, KeyError):
            continue  # the English itself is not formatted this way; nothing to compare
        for msgstr in _strings(m):
            try:
                msgstr % values
            except (ValueError, TypeError, KeyError) as e:
                broken.append(f"{_label(m)}: {msgstr!r} ({e})")
    assert not broken, "translations that break %-formatting (write a literal % as %%):\n  " + "\n  ".join(
        broken
    )


def test_placeholder_pattern():
    assert _placeholders("Logged in as %(name)s (%(role)s)") == ["%(name)s", "%(role)s"]
    assert _placeholders("Page %(page)d of %(pages)d") == ["%(page)d", "%(pages)d"]
    assert _placeholders("Plus 5 % target (persons)") == []
    assert _placeholders("100%% sure, %s") == ["%s"]


def test_catalog_has_plural_forms_for_swedish():
    cat = _catalog()
    assert cat.num_plurals == 2
    for m in cat:
        if m.id and m.pluralizable:
            assert len(_strings(m)) == 2, _label(m)


def _extracted_ids() -> dict[str, str]:
    """msgid -> first location, from a fresh extraction with the repo's babel.cfg."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(ROOT / "babel.cfg"))
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        msgid = message[0] if isinstance(message, (tuple, list)) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_fresh_extraction_finds_no_string_missing_from_the_catalog():
    extracted = _extracted_ids()
    assert len(extracted) > 50, "the extraction found too few strings; is babel.cfg still right?"
    known = {_ids(m)[0] for m in _catalog() if m.id}
    missing = sorted(f"{msgid!r} ({where})" for msgid, where in extracted.items() if msgid not in known)
    assert not missing, (
        "strings in the code that are not in messages.po (run extract + update, translate, compile):\n  "
        + "\n  ".join(missing)
    )


def test_compiled_mo_is_up_to_date_with_the_po():
    assert MO.is_file(), "messages.mo is missing: run `pybabel compile -d ebo/translations`"
    buf = BytesIO()
    write_mo(buf, _catalog())
    buf.seek(0)
    def key(m):  # plural entries come back with a list of ids
        return tuple(m.id) if isinstance(m.id, list) else m.id

    def text(m):
        return tuple(m.string) if isinstance(m.string, list | tuple) else m.string

    expected = {key(m): text(m) for m in read_mo(buf) if m.id}
    with MO.open("rb") as f:
        shipped = {key(m): text(m) for m in read_mo(f) if m.id}
    stale = sorted(repr(k) for k in expected.keys() ^ shipped.keys())
    stale += sorted(repr(k) for k in expected.keys() & shipped.keys() if expected[k] != shipped[k])
    assert not stale, "messages.mo is out of date (run `pybabel compile -d ebo/translations`):\n  " + (
        "\n  ".join(stale[:30])
    )


# --- the running app -----------------------------------------------------------------------------------


def _fresh_request_globals() -> None:
    """Forget what the previous request cached on `g`.

    The `db` fixture keeps an app context pushed for the whole test, and Flask reuses it for every
    test-client request, so `g` (where Flask-Babel caches the chosen locale) would outlive a request.
    In production every request gets a new app context; this puts the tests on the same footing.
    """
    if has_app_context():
        g.pop("_flask_babel", None)


def _get(client, path: str) -> str:
    _fresh_request_globals()
    resp = client.get(path)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def _choose(client, lang: str, next_path: str):
    _fresh_request_globals()
    resp = client.post("/language", data={"lang": lang, "next": next_path})
    assert resp.status_code == 302, resp.status_code
    assert resp.headers["Location"] == next_path
    return resp


@pytest.mark.parametrize("path", ["/", "/login"])
def test_pages_are_swedish_by_default_and_english_on_request(client, path):
    sv = _get(client, path)
    assert '<html lang="sv"' in sv
    assert "Logga in" in sv
    assert "Hoppa till innehållet" in sv
    assert "Log in" not in sv

    _choose(client, "en", path)
    en = _get(client, path)
    assert '<html lang="en"' in en
    assert "Log in" in en
    assert "Skip to content" in en
    assert "Logga in" not in en

    _choose(client, "sv", path)
    assert '<html lang="sv"' in _get(client, path)


def test_start_page_reads_swedish(client):
    html = _get(client, "/")
    assert "Rum för flyktingar" in html
    assert "EBO – matchning av värdhem" in html
    assert "Erbjud ett rum till en familj på flykt" in html


def test_unknown_language_is_ignored(client):
    _fresh_request_globals()
    client.post("/language", data={"lang": "xx", "next": "/"})
    assert '<html lang="sv"' in _get(client, "/")


def test_logged_in_home_is_swedish_by_default(client, make_user):
    user = make_user("host", name="Kim")
    _fresh_request_globals()
    assert login(client, user).status_code == 302
    html = _get(client, "/home")
    assert '<html lang="sv"' in html
    assert "Logga ut" in html
    assert "Mitt erbjudande" in html  # a host's home is the offer dashboard
    assert "Log out" not in html


def test_logged_in_home_follows_the_language_switch(client, make_user):
    user = make_user("coordinator")
    _fresh_request_globals()
    assert login(client, user).status_code == 302
    assert '<html lang="sv"' in _get(client, "/home")
    _choose(client, "en", "/home")
    html = _get(client, "/home")
    assert '<html lang="en"' in html
    assert "Log out" in html
    assert "Coordinator overview" in html
