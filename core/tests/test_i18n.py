"""The translation tooling (core/i18n.py): what the template checker flags, what the catalog check
refuses, and that re-extracting keeps the translations. The repository's own state is checked by
`make lint` (manage.py check_translations), not here."""

import io
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from core import i18n


def flagged(source: str) -> list[str]:
    return i18n.unmarked_sentences(source)


# The template checker
# ------------------------------------------------------------------------------


def test_an_unmarked_sentence_is_found():
    assert flagged("{% load i18n %}<p>Upload your photos here.</p>") == ["Upload your photos here."]


def test_marked_text_is_not_flagged():
    source = """{% load i18n %}
    <h1>{% translate "Your photos" %}</h1>
    <p>{% blocktranslate trimmed with count=photos|length %}You have {{ count }} photos,
       and more to come.{% endblocktranslate %}</p>
    <p>{% blocktranslate count n=total %}One image{% plural %}{{ n }} images{% endblocktranslate %}</p>"""
    assert flagged(source) == []


def test_comments_scripts_and_styles_are_not_user_facing():
    source = """{% comment %}Explains how this works to a developer.{% endcomment %}
    {# a short note for developers #}
    <script>const message = "Not shown as such";</script>
    <style>.note::after { content: "decoration only"; }</style>"""
    assert flagged(source) == []


def test_names_and_numbers_need_no_translation():
    assert flagged("<footer>PhotoAgent · API · FLUX.1-dev LoRA · 15 · {{ SITE_NAME }}</footer>") == []


def test_a_read_out_attribute_is_flagged():
    assert flagged('<img src="x.png" alt="A photo of the team">') == ["A photo of the team"]
    assert flagged('<form data-confirm="Delete this album?"></form>') == ["Delete this album?"]
    assert flagged('<input type="submit" value="Save changes">') == ["Save changes"]
    assert flagged("<input placeholder=\"{% translate 'Search' %}\">") == []


def test_a_literal_shown_through_a_filter_is_flagged():
    assert flagged('{{ token.last_used_at|date:"SHORT_DATE_FORMAT"|default:"Never" }}') == ["Never"]
    assert flagged('{{ shared|yesno:"Shared with others,Private" }}') == ["Shared with others,Private"]
    # A lowercase single word is a CSS class or a key, not a sentence.
    assert flagged('<li class="message-{{ message.tags|default:"info" }}">{{ message }}</li>') == []


def test_a_sentence_passed_to_an_include_is_flagged_unless_marked():
    assert flagged('{% include "field.html" with label="Your caption" %}') == ["Your caption"]
    assert flagged('{% include "field.html" with label=_("Your caption") %}') == []


# The catalogs
# ------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path, settings):
    """A small project tree: one app module, one template, one script, and the catalogs' folder."""
    settings.BASE_DIR = tmp_path
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch")]
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "messages.py").write_text(
        "from django.utils.translation import gettext as _, ngettext\n"
        "HELLO = _('Hello %(name)s')\n"
        "def photos(n):\n"
        "    return ngettext('%(count)d photo', '%(count)d photos', n) % {'count': n}\n",
        "utf-8",
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text('{% load i18n %}<h1>{% translate "Library" %}</h1>', "utf-8")
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "js" / "app.js").write_text('const done = `${gettext("Saved.")}`;\n', "utf-8")
    return tmp_path


def translate(path: Path, strings: dict) -> None:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="de")
    for message in catalog:
        key = message.id if isinstance(message.id, str) else message.id[0]
        if message.id and key in strings:
            message.string = strings[key]
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100)
    path.write_bytes(buffer.getvalue())


COMPLETE = {
    "Hello %(name)s": "Hallo %(name)s",
    "%(count)d photo": ("%(count)d Foto", "%(count)d Fotos"),
    "Library": "Mediathek",
}


def test_a_new_string_needs_a_translation_and_then_passes(project):
    assert i18n.update_catalogs() == {"de": 4}
    problems = [str(problem) for problem in i18n.catalog_problems()]
    assert "locale/de/LC_MESSAGES/django.po: no translation: 'Library'" in problems
    assert "locale/de/LC_MESSAGES/djangojs.po: no translation: 'Saved.'" in problems
    translate(i18n.catalog_path("de"), COMPLETE)
    translate(i18n.catalog_path("de", "djangojs"), {"Saved.": "Gespeichert."})
    assert i18n.catalog_problems() == []


def test_a_dropped_placeholder_fails(project):
    i18n.update_catalogs()
    translate(i18n.catalog_path("de"), {**COMPLETE, "Hello %(name)s": "Hallo"})
    translate(i18n.catalog_path("de", "djangojs"), {"Saved.": "Gespeichert."})
    [problem] = i18n.catalog_problems()
    assert problem.where == "locale/de/LC_MESSAGES/django.po"
    assert "placeholders [] in 'Hallo', expected ['%(name)']" in problem.what


def test_a_dropped_placeholder_in_a_plural_form_fails(project):
    i18n.update_catalogs()
    translate(i18n.catalog_path("de"), {**COMPLETE, "%(count)d photo": ("ein Foto", "%(count)d Fotos")})
    translate(i18n.catalog_path("de", "djangojs"), {"Saved.": "Gespeichert."})
    assert ["ein Foto" in problem.what for problem in i18n.catalog_problems()] == [True]


def test_a_string_missing_from_the_catalog_fails(project):
    i18n.update_catalogs()
    translate(i18n.catalog_path("de"), COMPLETE)
    translate(i18n.catalog_path("de", "djangojs"), {"Saved.": "Gespeichert."})
    (project / "templates" / "new.html").write_text('{% load i18n %}{% translate "Albums" %}', "utf-8")
    assert [str(problem) for problem in i18n.catalog_problems()] == [
        "locale/de/LC_MESSAGES/django.po: not in the catalog (run update_translations): 'Albums'"
    ]


def test_updating_keeps_the_translations_and_changes_nothing_when_nothing_changed(project):
    i18n.update_catalogs()
    translate(i18n.catalog_path("de"), COMPLETE)
    translate(i18n.catalog_path("de", "djangojs"), {"Saved.": "Gespeichert."})
    assert i18n.update_catalogs() == {"de": 0}
    first = i18n.catalog_path("de").read_bytes()
    (project / "templates" / "new.html").write_text('{% load i18n %}{% translate "Albums" %}', "utf-8")
    assert i18n.update_catalogs() == {"de": 1}
    with i18n.catalog_path("de").open("rb") as handle:
        catalog = read_po(handle, locale="de")
    assert catalog.get("Library").string == "Mediathek"
    assert catalog.get("Albums").string == ""
    (project / "templates" / "new.html").unlink()
    i18n.update_catalogs()
    assert i18n.catalog_path("de").read_bytes() == first


def test_compiled_catalogs_translate(project, settings):
    from django.utils import translation
    from django.utils.translation import trans_real

    i18n.update_catalogs()
    translate(i18n.catalog_path("de"), COMPLETE)
    assert i18n.compile_catalogs() == [
        i18n.catalog_path("de").with_suffix(".mo"),
        i18n.catalog_path("de", "djangojs").with_suffix(".mo"),
    ]
    settings.LOCALE_PATHS = [project / "locale"]
    trans_real._translations = {}
    try:
        with translation.override("de"):
            assert translation.gettext("Library") == "Mediathek"
            assert translation.ngettext("%(count)d photo", "%(count)d photos", 3) == "%(count)d Fotos"
    finally:
        trans_real._translations = {}
