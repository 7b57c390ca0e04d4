"""Issue 14: no WTForms message stays in English on a Swedish page, nested forms included."""

from __future__ import annotations

import importlib
import pkgutil

import wtforms

import ebo
from tests.conftest import count
from tests.web.test_families import form_data

PROBES = ("Not a valid integer value.", "This field is required.", "Invalid value, must be one of: %(values)s.")


def _form_classes():
    for mod in pkgutil.walk_packages(ebo.__path__, "ebo."):
        if mod.name.endswith(".forms") or mod.name == "ebo.formutil":
            importlib.import_module(mod.name)
    seen, todo = set(), list(wtforms.Form.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.add(cls)
            todo.extend(cls.__subclasses__())
    return sorted((c for c in seen if c.__module__.startswith("ebo.")), key=lambda c: c.__qualname__)


def test_every_form_translates_wtforms_messages(app):
    """Each form of the application, nested ones too, answers WTForms' own messages in Swedish."""
    classes = _form_classes()
    assert len(classes) > 10
    untranslated = []
    with app.test_request_context("/", headers={"Accept-Language": "sv"}):
        from flask_babel import force_locale

        with force_locale("sv"):
            for cls in classes:
                translations = cls.Meta().get_translations(None) if hasattr(cls, "Meta") else None
                if translations is None or any(translations.gettext(p) == p for p in PROBES):
                    untranslated.append(cls.__qualname__)
    assert untranslated == []


def test_child_born_in_1800_gets_a_swedish_message(client, login_as):
    from ebo.models import Family

    login_as("caseworker")
    client.post("/language", data={"lang": "sv"})
    resp = client.post("/families/new", data=form_data(**{"members-1-kind": "child", "members-1-birth_year": "1800"}))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and count(Family) == 0
    assert "Number must be between" not in html
    assert "1900" in html and "2100" in html  # the Swedish message names the range
