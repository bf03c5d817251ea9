"""The translation catalogs, with no GNU gettext on the machine: Babel extracts the marked strings
(Django's own `templatize` turns a template into code Babel reads, as `makemessages` does), keeps
`locale/<lang>/LC_MESSAGES/{django,djangojs}.po` up to date and compiles them to `.mo`.

`manage.py update_translations` re-extracts and merges (translators then fill the new entries),
`manage.py compile_translations` writes the `.mo` files (the install step, the Dockerfile and the test
session run it; `.mo` files are build output, not committed), and `manage.py check_translations`
fails `make lint` when a shipped language misses a translation, a translation drops a placeholder, a
catalog is out of date, or a template holds a user-facing sentence that is not marked.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from django.conf import settings
from django.template.base import Lexer, TokenType
from django.utils.translation.template import templatize

# The apps' code and the templates; tests, migrations, benches and stand-ins are not user-facing.
PYTHON_ROOTS = ("core", "accounts", "projects", "training", "generation", "library", "photoagent", "integrations")
SKIPPED_DIRS = {"tests", "migrations", "management", "__pycache__"}
TEMPLATE_ROOT = "templates"
# Operator pages (the admin's own, translated by Django) and the third-party API docs viewers.
OPERATOR_TEMPLATES = ("templates/admin/", "templates/api/")
JAVASCRIPT_ROOT = "static/js"

KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
JS_KEYWORDS = {"gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}
DOMAINS = ("django", "djangojs")


def base_dir() -> Path:
    return Path(settings.BASE_DIR)


def shipped_languages() -> list[str]:
    """Every language of LANGUAGES but the source one (English is the msgids themselves)."""
    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def catalog_path(language: str, domain: str = "django") -> Path:
    return base_dir() / "locale" / language / "LC_MESSAGES" / f"{domain}.po"


# --- extraction ----------------------------------------------------------------------------------


def _python_files() -> Iterator[Path]:
    root = base_dir()
    for top in PYTHON_ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            if not SKIPPED_DIRS.intersection(path.relative_to(root).parts):
                yield path


def _template_files() -> Iterator[Path]:
    root = base_dir()
    for path in sorted((root / TEMPLATE_ROOT).rglob("*")):
        if path.suffix in (".html", ".txt") and path.is_file():
            yield path


def _javascript_files() -> Iterator[Path]:
    yield from sorted((base_dir() / JAVASCRIPT_ROOT).rglob("*.js"))


def _messages(path: Path, code: str, keywords: dict, method: str) -> Iterator[tuple]:
    relative = path.relative_to(base_dir()).as_posix()
    # Scripts: also the gettext() calls inside a template literal's placeholders.
    options = {"encoding": "utf-8", "parse_template_string": method == "javascript"}
    for lineno, message, comments, context in extract(
        method, io.BytesIO(code.encode("utf-8")), keywords=keywords, options=options, strip_comment_tags=True
    ):
        yield relative, lineno, message, comments, context


def extract_catalog(domain: str = "django") -> Catalog:
    """Every marked string of the code and templates (domain "django") or of the scripts ("djangojs")."""
    catalog = Catalog(project="PhotoAgent", fuzzy=False)
    entries: list[tuple] = []
    if domain == "django":
        for path in _python_files():
            entries.extend(_messages(path, path.read_text("utf-8"), KEYWORDS, "python"))
        for path in _template_files():
            code = templatize(path.read_text("utf-8"), origin=str(path))
            entries.extend(_messages(path, code, KEYWORDS, "python"))
    else:
        for path in _javascript_files():
            entries.extend(_messages(path, path.read_text("utf-8"), JS_KEYWORDS, "javascript"))
    for relative, _lineno, message, comments, context in entries:
        # No line numbers (see _write); Babel's stubs want one, the writer does without.
        catalog.add(message, locations=[(relative, None)], auto_comments=comments, context=context)  # type: ignore[list-item]
    return catalog


# --- update and compile --------------------------------------------------------------------------


def _read(path: Path, language: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=language, project="PhotoAgent", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    # No line numbers: a moved line must not rewrite every catalog.
    write_po(buffer, catalog, width=100, sort_output=True, include_lineno=False, ignore_obsolete=True)
    path.write_bytes(buffer.getvalue())


def update_catalogs(languages: Iterable[str] | None = None) -> dict[str, int]:
    """Merges the extracted strings into each language's catalogs; returns how many entries of each
    language still need a translation."""
    to_translate: dict[str, int] = {}
    templates = {domain: extract_catalog(domain) for domain in DOMAINS}
    for language in languages or shipped_languages():
        to_translate[language] = 0
        for domain, template in templates.items():
            path = catalog_path(language, domain)
            if not len(template) and not path.exists():
                continue
            catalog = _read(path, language)
            # No fuzzy matching: a guessed translation of a similar sentence is worse than none.
            # Nor a new creation date: re-running on unchanged code must leave the files unchanged.
            catalog.update(template, no_fuzzy_matching=True, update_header_comment=False, update_creation_date=False)
            catalog.fuzzy = False
            _write(path, catalog)
            to_translate[language] += sum(1 for message in catalog if message.id and not _translated(message))
    return to_translate


def compile_catalogs() -> list[Path]:
    written = []
    for language in shipped_languages():
        for domain in DOMAINS:
            path = catalog_path(language, domain)
            if not path.exists():
                continue
            catalog = _read(path, language)
            target = path.with_suffix(".mo")
            with target.open("wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)
            written.append(target)
    return written


# --- checks --------------------------------------------------------------------------------------


def _translated(message) -> bool:
    if message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return bool(strings) and all(strings)


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def catalog_problems() -> list[Problem]:
    problems: list[Problem] = []
    templates = {domain: extract_catalog(domain) for domain in DOMAINS}
    for language in shipped_languages():
        for domain, template in templates.items():
            path = catalog_path(language, domain)
            where = path.relative_to(base_dir()).as_posix()
            if not len(template):
                continue
            if not path.exists():
                problems.append(Problem(where, "missing: run `manage.py update_translations` and translate it"))
                continue
            catalog = _read(path, language)
            for message in template:
                if not message.id:
                    continue
                entry = catalog.get(message.id, context=message.context)
                if entry is None:
                    problems.append(Problem(where, f"not in the catalog (run update_translations): {message.id!r}"))
                elif not _translated(entry):
                    problems.append(Problem(where, f"no translation: {message.id!r}"))
            for message, errors in catalog.check():
                for error in errors:
                    problems.append(Problem(where, f"{message.id!r}: {error}"))
            for message in catalog:
                for mismatch in placeholder_problems(message):
                    problems.append(Problem(where, f"{message.id!r}: {mismatch}"))
    return problems


# "%(name)s", "%d" (python-format: Python code, templates, JavaScript's interpolate) and "{name}"
# (python-brace-format: str.format, format_html).
PERCENT_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")
BRACE_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}:!]*)[^{}]*\}")


def _placeholders(text: str, flags: set[str]) -> list[str]:
    found: list[str] = []
    if "python-format" in flags:
        for match in PERCENT_PLACEHOLDER.finditer(text):
            if match.group(0) != "%%":
                found.append(match.group(0) if match.group(1) is None else f"%({match.group(1)})")
    if "python-brace-format" in flags:
        found.extend(
            "{" + match.group(1) + "}" for match in BRACE_PLACEHOLDER.finditer(text) if match.group(1) is not None
        )
    return sorted(found)


def placeholder_problems(message) -> list[str]:
    """A translation must keep every placeholder of its English text, no more and no fewer (Babel
    only catches unknown ones, and formatting with a dict silently drops a missing one). Each plural
    form is compared with the English plural, the first with the English singular."""
    if not message.id or not _translated(message):
        return []
    flags = set(message.flags)
    if not flags & {"python-format", "python-brace-format"}:
        return []
    if isinstance(message.id, tuple | list):
        singular, plural = message.id[0], message.id[1]
        pairs = [(singular if index == 0 else plural, text) for index, text in enumerate(message.string)]
    else:
        pairs = [(message.id, message.string)]
    problems = []
    for source, text in pairs:
        expected, given = _placeholders(source, flags), _placeholders(text, flags)
        if expected != given:
            problems.append(f"placeholders {given} in {text!r}, expected {expected}")
    return problems


# Words that are the same in every language: names of the product, its providers and formats.
NOT_TRANSLATED = {
    "PhotoAgent",
    "LoRA",
    "LoRAs",
    "FLUX",
    "dev",
    "API",
    "URL",
    "ID",
    "JSON",
    "JPEG",
    "PNG",
    "WebP",
    "HEIC",
    "Replicate",
    "Hugging",
    "Face",
    "Hub",
    "SendGrid",
    "OK",
    "px",
    "KB",
    "MB",
    "GB",
}
WORD = re.compile(r"[^\W\d_]{2,}")
PLACEHOLDER = "\x00"
# Attributes a reader sees or a screen reader reads out.
TEXT_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "data-confirm", "label"}
# Filters whose literal argument is shown to the reader: {{ x|default:"Never" }}.
SHOWN_FILTER_ARGUMENT = re.compile(r"\|(?:default|default_if_none|yesno):(\"[^\"]*\"|'[^']*')")
# Template tags whose literal arguments are names, paths or formats, never sentences.
QUIET_TAGS = {"url", "static", "extends", "load", "block", "endblock", "csrf_token", "now", "cycle", "spaceless"}


def _sentence(text: str) -> bool:
    return any(word not in NOT_TRANSLATED for word in WORD.findall(text))


class _Visible(HTMLParser):
    """The text and the read-out attributes of an HTML (or plain-text) template."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if value and (name in TEXT_ATTRIBUTES or name.startswith("data-label")) and _sentence(value):
                self.found.append(value)
            # An <input type="submit">'s value is its label; a <button>'s is only sent.
            shown_value = tag == "input" and dict(attrs).get("type") in ("submit", "button")
            if name == "value" and value and shown_value and _sentence(value):
                self.found.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and _sentence(data):
            self.found.append(data)


def unmarked_sentences(source: str) -> list[str]:
    """The user-facing sentences of a template that are not inside a translation tag."""
    found: list[str] = []
    visible: list[str] = []
    inside: str | None = None
    for token in Lexer(source).tokenize():
        contents = token.contents.strip()
        if token.token_type == TokenType.BLOCK:
            name = contents.split(" ", 1)[0]
            if inside:
                if name == inside:
                    inside = None
                continue
            if name in ("blocktrans", "blocktranslate"):
                inside = "end" + name
            elif name in ("comment", "verbatim"):
                inside = "end" + name
            elif name not in QUIET_TAGS and name not in ("trans", "translate"):
                for literal in re.findall(r"=(\"[^\"]*\"|'[^']*')", contents):
                    if " " in literal and _sentence(literal):
                        found.append(literal.strip("\"'"))
            visible.append(PLACEHOLDER)
        elif inside:
            continue
        elif token.token_type == TokenType.VAR:
            # A lowercase single word is a CSS class or a key ({{ tag|default:"info" }}), not a sentence.
            for literal in SHOWN_FILTER_ARGUMENT.findall(contents):
                text = literal.strip("\"'")
                if _sentence(text) and (" " in text or not text.islower()):
                    found.append(text)
            visible.append(PLACEHOLDER)
        elif token.token_type == TokenType.TEXT:
            visible.append(token.contents)
    parser = _Visible()
    parser.feed("".join(visible))
    parser.close()
    found.extend(text.replace(PLACEHOLDER, "…") for text in parser.found)
    return [" ".join(text.split()) for text in found]


def template_problems() -> list[Problem]:
    problems: list[Problem] = []
    root = base_dir()
    for path in _template_files():
        relative = path.relative_to(root).as_posix()
        if relative.startswith(OPERATOR_TEMPLATES):
            continue
        for sentence in unmarked_sentences(path.read_text("utf-8")):
            problems.append(Problem(relative, f"not marked for translation: {sentence[:80]!r}"))
    return problems
