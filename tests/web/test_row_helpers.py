"""The helpers that let a table work out each distinct value once per page, with the same text as before."""

from __future__ import annotations

from flask_babel import force_locale

from ebo.ui import STATUS_LABELS, language_list, remembered, words_of


def test_remembered_calls_once_per_value_and_lists_by_their_items(app):
    calls = []

    def fmt(value):
        calls.append(value)
        return f"<{value}>"

    once = remembered(fmt)
    assert [once(v) for v in (3, 3, 4, 3)] == ["<3>", "<3>", "<4>", "<3>"]
    assert once(["sv", "en"]) == once(["sv", "en"]) == "<['sv', 'en']>"
    assert once({"a": 1}) == once({"a": 1})  # not hashable: worked out every time
    assert calls == [3, 4, ["sv", "en"], {"a": 1}, {"a": 1}]


def test_remembered_filter_and_words_give_the_texts_of_the_filter_and_the_labels(app):
    with app.test_request_context("/"), force_locale("sv"):
        langs = remembered("language_list")
        assert langs(["ar", "sv"]) == language_list(["ar", "sv"]) and "," in langs(["ar", "sv"])
        status = words_of(STATUS_LABELS)
        assert status("approved") == str(STATUS_LABELS["approved"]) != "approved"
        assert status("no-such-state") == "no-such-state"
    with app.test_request_context("/"), force_locale("en"):
        assert words_of(STATUS_LABELS)("approved") == "approved"
