"""Languages: negotiation, Babel dates, Jinja rendering per request, and complete catalogues."""

from __future__ import annotations

import ast
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import DictLoader, Environment

from watchroster.core import i18n

REPO = Path(__file__).resolve().parents[2]
TRANSLATED = [lang for lang in i18n.SUPPORTED_LANGUAGES if lang != i18n.SOURCE_LANGUAGE]
FRIDAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("saved", "header", "default", "expected"),
    [
        ("af", "zu", "en", "af"),  # the profile wins over the browser
        (None, "af-ZA,en;q=0.8", "en", "af"),
        (None, "en-GB,en;q=0.9,zu;q=0.8", "af", "en"),
        (None, "fr-FR, de;q=0.9, zu-ZA;q=0.5, af;q=0.7", "en", "af"),  # by q, not by order
        (None, "zu;q=0.5, af;q=0.5", "en", "zu"),  # equal q: the header's order
        (None, "af;q=0, zu;q=0.1", "en", "zu"),  # q=0 means "not this one"
        (None, "af;q=abc, zu;q=2", "en", "en"),  # malformed q-values are ignored
        (None, "fr, de", "zu", "zu"),  # nothing supported: the default
        (None, "*", "af", "af"),  # anything: the default
        (None, None, "af", "af"),
        (None, "", "xx", "en"),  # an unsupported default falls back to English
        ("fr", "AF_za", "en", "af"),  # an unsupported saved value is ignored; case and "_"
    ],
)
def test_negotiate_follows_profile_then_browser_then_default(
    saved: str | None, header: str | None, default: str, expected: str
) -> None:
    assert i18n.negotiate(saved, header, default) == expected


def test_accepted_languages_are_sorted_by_quality_then_position() -> None:
    header = "en;q=0.2, af , zu-ZA;q=0.9, fr;q=0, ;q=1, de;q=0.9"
    assert i18n.accepted_languages(header) == ["af", "zu-ZA", "de", "en"]


def test_days_and_times_come_from_babel_locale_data() -> None:
    assert i18n.format_day(FRIDAY, "en") == "Friday 4 December"
    assert i18n.format_day(FRIDAY, "af") == "Vrydag 4 Desember"
    zulu = Locale.parse("zu")
    friday, december = zulu.days["format"]["wide"][4], zulu.months["format"]["wide"][12]
    assert i18n.format_day(FRIDAY, "zu") == f"{friday} 4 {december}"
    assert friday != "Friday" and december != "December"
    assert i18n.format_time_range(time(18, 0), time(21, 30), "zu") == "18:00–21:30"
    local = datetime(2026, 12, 4, 7, 5, tzinfo=ZoneInfo("Africa/Johannesburg"))
    assert i18n.format_datetime_words(local, "af") == "Vrydag 4 Desember 07:05"
    assert i18n.format_short_day(FRIDAY, "en") == "Fri 4 Dec"


def test_day_heading_names_today_tonight_and_tomorrow_in_the_language() -> None:
    today = date(2026, 12, 3)
    assert i18n.day_heading(today, today, "en") == "Today"
    assert i18n.day_heading(today, today, "af", evening=True) == "Vanaand"
    assert i18n.day_heading(date(2026, 12, 4), today, "zu") == "Kusasa"
    assert i18n.day_heading(date(2026, 12, 5), today, "af") == "Saterdag 5 Desember"


def test_english_and_unknown_languages_read_the_source_strings() -> None:
    assert i18n.gettext_for("en")("Your shift is booked.") == "Your shift is booked."
    assert i18n.gettext_for("xx")("Your shift is booked.") == "Your shift is booked."
    assert i18n.gettext_for("af")("Your shift is booked.") == "Jou skof is bespreek."


PAGE = (
    "{% trans %}Your shift is booked.{% endtrans %}|{{ _('Today') }}|"
    "{% trans who=name %}Hello {{ who }}{% endtrans %}|"
    "{% trans count=n %}{{ count }} shift{% pluralize %}{{ count }} shifts{% endtrans %}"
)


def _environment() -> Environment:
    env = Environment(loader=DictLoader({"page.html": PAGE}), autoescape=True)
    i18n.install_jinja(env)
    return env


def test_one_environment_renders_each_request_in_its_own_language() -> None:
    env = _environment()
    template = env.get_template("page.html")

    def render(lang: str) -> str:
        return template.render(**i18n.jinja_context(lang), name="<b>Sipho</b>", n=2)

    # Renders in parallel threads must not leak a language into each other.
    with ThreadPoolExecutor(max_workers=4) as pool:
        pages = list(pool.map(render, ["af", "zu", "en"] * 20))
    af, zu, en = pages[:3]
    assert set(pages) == {af, zu, en}
    assert af.startswith("Jou skof is bespreek.|Vandag|")
    assert zu.startswith("Ishifu yakho ibhukhiwe.|Namuhla|")
    assert en == "Your shift is booked.|Today|Hello &lt;b&gt;Sipho&lt;/b&gt;|2 shifts"


def test_without_a_render_language_templates_fall_back_to_english() -> None:
    assert (
        _environment()
        .get_template("page.html")
        .render(name="X", n=1)
        .startswith("Your shift is booked.|Today|Hello X|1 shift")
    )


def _copy_catalogue(lang: str, into: Path) -> Path:
    po_file = i18n.po_path(lang, into)
    po_file.parent.mkdir(parents=True)
    shutil.copy(i18n.po_path(lang), po_file)
    return po_file


def test_a_missing_or_stale_mo_is_compiled_next_to_the_po(tmp_path: Path) -> None:
    po_file = _copy_catalogue("af", tmp_path)
    mo_file = po_file.with_suffix(".mo")
    data = i18n.compiled_catalogue("af", tmp_path)
    assert data and mo_file.read_bytes() == data
    assert mo_file.stat().st_mode & 0o777 == 0o644
    mo_file.write_bytes(b"stale")
    later = mo_file.stat().st_mtime + 5
    os.utime(po_file, (later, later))  # the .po changed after the .mo was built
    assert i18n.compiled_catalogue("af", tmp_path) == data
    assert mo_file.read_bytes() == data
    assert i18n.compile_all(tmp_path) == ["af"]  # only the languages that have a catalogue


def test_a_read_only_package_compiles_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    po_file = _copy_catalogue("zu", tmp_path)

    def refuse(*_args: object, **_kwargs: object) -> tuple[int, str]:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    data = i18n.compiled_catalogue("zu", tmp_path)
    assert data is not None and not po_file.with_suffix(".mo").exists()
    assert list(tmp_path.rglob("*.tmp")) == []


def _catalogue(lang: str) -> Catalog:
    with i18n.po_path(lang).open("rb") as source:
        return read_po(source, locale=lang)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_has_no_untranslated_fuzzy_or_broken_entries(lang: str) -> None:
    catalogue = _catalogue(lang)
    entries = [message for message in catalogue if message.id]
    assert entries, "an empty catalogue"
    untranslated = [m.id for m in entries if not all(_strings(m.string))]
    assert untranslated == []
    assert [m.id for m in entries if m.fuzzy] == []
    # Babel's checks: the same %(placeholders)s as the source, and plural forms complete.
    assert [(m.id, errors) for m, errors in catalogue.check()] == []


def _strings(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return [""]
    return [value] if isinstance(value, str) else list(value)


def _extracted_ids() -> set[str]:
    with (REPO / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    found = extract_from_dir(str(REPO), method_map, options_map)
    return {msgid if isinstance(msgid, str) else msgid[0] for _, _, msgid, _, _ in found}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_in_the_code_is_in_the_catalogue(lang: str) -> None:
    extracted = _extracted_ids()
    assert "Your shift is booked." in extracted  # the extraction itself works
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue(lang) if m.id}
    assert sorted(extracted - known) == [], "run `make messages` and translate the new entries"


def _hidden_from_extraction(tree: ast.AST) -> list[int]:
    """Lines calling the result of `gettext_for(...)`/`ngettext_for(...)` directly, e.g.
    `gettext_for(lang)("Book")`: pybabel extracts literals only from calls of `_`/`gettext`/…"""
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Call)):
            continue
        if node.args and isinstance(node.args[0], ast.Constant):
            inner = node.func.func
            name = inner.attr if isinstance(inner, ast.Attribute) else getattr(inner, "id", "")
            if name in ("gettext_for", "ngettext_for"):
                lines.append(node.lineno)
    return lines


def test_the_extraction_lint_finds_inline_calls() -> None:
    source = (
        'i18n.gettext_for(x)("a")\n_ = gettext_for(x)\n_("b")\nngettext_for(x)("c", "d", 2)\n'
        "gettext_for(x)(MARKED_ELSEWHERE)"  # a variable holds a string marked with N_()
    )
    assert _hidden_from_extraction(ast.parse(source)) == [1, 4]


def test_no_translated_string_is_hidden_from_extraction() -> None:
    hidden = {}
    for path in sorted((REPO / "src" / "watchroster").rglob("*.py")):
        lines = _hidden_from_extraction(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            hidden[str(path.relative_to(REPO))] = lines
    assert hidden == {}, 'write `_ = i18n.gettext_for(lang)` then `_("…")`'
