"""Languages: which one a person gets, the translated strings, and dates in words.

For the web pages (one Jinja `Environment`, any number of languages at once):

    env = Environment(...)
    i18n.install_jinja(env)                       # once: jinja2.ext.i18n, newstyle gettext
    lang = i18n.negotiate(user.language, request.headers.get("accept-language"),
                          settings.default_language)
    template.render(**i18n.jinja_context(lang), lang=lang, ...)   # per render

In templates: `{% trans %}Book{% endtrans %}`,
`{% trans name=slot.name %}Book {{ name }}{% endtrans %}`, `{{ _("Open shifts") }}` or
`{{ _("Book %(name)s", name=slot.name) }}`. Newstyle gettext always %-formats the translation, so
a literal per-cent sign in `_()` must be written `%%` (`{% trans %}` blocks escape it themselves).
Values passed as variables are HTML-escaped by autoescape. Keep whole sentences in one string
(word order differs in Afrikaans and isiZulu); no markup inside strings where avoidable.

In Python code (page handlers, SMS texts): `_ = i18n.gettext_for(lang)`, then `_("Sorry…")`:
extraction only sees literals passed to a function named `_`, `gettext`, `ngettext` or `N_`, so
never write `i18n.gettext_for(lang)("…")` in one expression (a test refuses it). Strings
defined at import time (labels in a table) are marked with `N_("…")` so extraction finds them, and
translated where they are shown: `_(LABEL)`.

Dates and times come from Babel's CLDR data: `format_day(date(2026, 12, 4), "af")` is
"Vrydag 4 Desember", `format_time(time(18, 0), "zu")` is "18:00". Give them local (schedule zone)
dates and times.

Catalogues: `locales/<lang>/LC_MESSAGES/messages.po` (sources, committed) are compiled to `.mo` by
`make` (`compile-messages`) or, at first use, here: a missing or stale `.mo` is rebuilt next to the
`.po`, or in memory when the package directory is read-only (an installed wheel).
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any, Final, cast

from babel import dates as babel_dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

# The API's `language` field and the catalogues both come from this one list (re-exported).
from watchroster.core.languages import LANGUAGE_NAMES as LANGUAGE_NAMES
from watchroster.core.languages import SOURCE_LANGUAGE as SOURCE_LANGUAGE
from watchroster.core.languages import SUPPORTED_LANGUAGES as SUPPORTED_LANGUAGES
from watchroster.core.languages import Language as Language

log = logging.getLogger("watchroster.core.i18n")

LOCALES_DIR: Final = Path(__file__).parent.parent / "locales"
DOMAIN: Final = "messages"

_DAY_PATTERN = "EEEE d MMMM"  # Friday 5 December
_SHORT_DAY_PATTERN = "EEE d MMM"  # Fri 5 Dec
_TIME_PATTERN = "HH:mm"  # 24-hour clock in all three languages, as South Africa writes it


def N_(message: str) -> str:  # noqa: N802 - the conventional name extraction looks for
    """Mark a string for extraction without translating it (it is translated where shown)."""
    return message


# --- which language --------------------------------------------------------------------------


def supported(lang: str | None) -> Language | None:
    """The supported language a tag names (`af-ZA` → `af`), or None."""
    if not lang:
        return None
    primary = lang.strip().replace("_", "-").split("-", 1)[0].lower()
    return cast(Language, primary) if primary in SUPPORTED_LANGUAGES else None


def _quality(params: list[str]) -> float | None:
    """The q-value of one Accept-Language entry (1 when absent), None when malformed."""
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return None
            return q if 0.0 <= q <= 1.0 else None
    return 1.0


def accepted_languages(header: str | None) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first (q=0 and junk dropped;
    equal q keeps the header's order)."""
    ranked: list[tuple[float, int, str]] = []
    for position, entry in enumerate((header or "").split(",")):
        tag, *params = entry.split(";")
        tag, q = tag.strip(), _quality(params)
        if tag and q:
            ranked.append((-q, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(user_language: str | None, accept_language: str | None, default: str) -> Language:
    """The user's saved choice, else the browser's best supported language, else `default`
    (itself English when it is not supported)."""
    chosen = supported(user_language)
    if chosen:
        return chosen
    fallback = supported(default) or SOURCE_LANGUAGE
    for tag in accepted_languages(accept_language):
        if tag == "*":
            return fallback
        chosen = supported(tag)
        if chosen:
            return chosen
    return fallback


def message_language(saved: str | None, default: str, requested: str | None = None) -> Language:
    """The language of a message to someone: their saved choice, else the language of the request
    that caused it (a login code asked for on a page), else the configured default."""
    return supported(saved) or supported(requested) or supported(default) or SOURCE_LANGUAGE


# --- catalogues ------------------------------------------------------------------------------


def po_path(lang: str, locales_dir: Path = LOCALES_DIR) -> Path:
    return locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile_po(po_file: Path) -> bytes:
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=po_file.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)  # a fuzzy guess is worse than English
    return buffer.getvalue()


def _write_atomically(target: Path, data: bytes) -> None:
    # Several server processes may start at once: each writes its own file and renames it.
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".mo.tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a catalogue is not secret
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def compiled_catalogue(lang: str, locales_dir: Path = LOCALES_DIR) -> bytes | None:
    """The `.mo` bytes of a language (rebuilt when missing or older than its `.po`), or None
    when the language has no catalogue."""
    po_file = po_path(lang, locales_dir)
    if not po_file.exists():
        return None
    mo_file = po_file.with_suffix(".mo")
    if mo_file.exists() and mo_file.stat().st_mtime >= po_file.stat().st_mtime:
        return mo_file.read_bytes()
    data = _compile_po(po_file)
    try:
        _write_atomically(mo_file, data)
    except OSError as exc:  # read-only install: keep the compiled catalogue in memory only
        log.debug("cannot write %s (%s); using the catalogue compiled in memory", mo_file, exc)
    return data


def compile_all(locales_dir: Path = LOCALES_DIR) -> list[str]:
    """Compile every catalogue that needs it; the languages that have one."""
    return [lang for lang in SUPPORTED_LANGUAGES if compiled_catalogue(lang, locales_dir)]


@cache
def translations(lang: str) -> NullTranslations:
    """The catalogue of a supported language (English and unknown tags: the source strings).
    Cached for the life of the process; the objects are read-only, so threads share them."""
    chosen = supported(lang) or SOURCE_LANGUAGE
    data = None if chosen == SOURCE_LANGUAGE else compiled_catalogue(chosen)
    if data is None:
        return NullTranslations()
    return Translations(io.BytesIO(data), domain=DOMAIN)


def gettext_for(lang: str) -> Callable[[str], str]:
    """`gettext` of one language, for Python code (SMS texts, messages built in handlers)."""
    return translations(lang).gettext


def ngettext_for(lang: str) -> Callable[[str, str, int], str]:
    return translations(lang).ngettext


# --- Jinja -----------------------------------------------------------------------------------


def install_jinja(env: Environment) -> None:
    """Enable `{% trans %}` with newstyle gettext. The English callables installed here are only
    the fallback: each render passes its language's callables (`jinja_context`), and Jinja looks
    `gettext`/`ngettext` up in the render context before the globals."""
    env.add_extension("jinja2.ext.i18n")
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


def _finish(context: Context, text: str, variables: Mapping[str, Any]) -> str:
    # As Jinja's own newstyle gettext: mark safe under autoescape so `%` escapes the variables,
    # and always %-format, so `%%` means the same with and without variables.
    # A translation is trusted like the template it replaces (it is ours, not user input).
    result: str = Markup(text) if context.eval_ctx.autoescape else text  # noqa: S704
    return result % variables


def _newstyle(catalogue: NullTranslations) -> dict[str, Callable[..., str]]:
    @pass_context
    def gettext(__context: Context, __string: str, **variables: Any) -> str:
        return _finish(__context, catalogue.gettext(__string), variables)

    @pass_context
    def ngettext(
        __context: Context, __singular: str, __plural: str, __num: int, **variables: Any
    ) -> str:
        variables.setdefault("num", __num)
        return _finish(__context, catalogue.ngettext(__singular, __plural, __num), variables)

    @pass_context
    def pgettext(__context: Context, __msgctxt: str, __string: str, **variables: Any) -> str:
        variables.setdefault("context", __msgctxt)
        return _finish(__context, str(catalogue.pgettext(__msgctxt, __string)), variables)

    return {"gettext": gettext, "ngettext": ngettext, "pgettext": pgettext}


@cache
def _jinja_callables(lang: str) -> Mapping[str, Callable[..., str]]:
    return _newstyle(translations(lang))


def jinja_context(lang: str) -> dict[str, Any]:
    """The gettext callables of one language, to merge into one render's context (a new dict
    each call, so a caller may add to it; the callables themselves are shared and stateless)."""
    return dict(_jinja_callables(supported(lang) or SOURCE_LANGUAGE))


# --- dates and times in words ----------------------------------------------------------------


def _locale(lang: str) -> str:
    return supported(lang) or SOURCE_LANGUAGE


def format_day(day: date, lang: str) -> str:
    """`Friday 5 December` / `Vrydag 5 Desember` / `ULwesihlanu 5 Disemba` (a local date)."""
    return babel_dates.format_date(day, _DAY_PATTERN, locale=_locale(lang))


def format_short_day(day: date, lang: str) -> str:
    """`Fri 5 Dec` / `Vr. 5 Des.`: for SMS texts, where every character counts."""
    return babel_dates.format_date(day, _SHORT_DAY_PATTERN, locale=_locale(lang))


def format_time(moment: time | datetime, lang: str) -> str:
    """`18:00`: the wall-clock time as given (pass a local time)."""
    wall = moment.time() if isinstance(moment, datetime) else moment
    return babel_dates.format_time(wall, _TIME_PATTERN, locale=_locale(lang))


def format_time_range(start: time | datetime, end: time | datetime, lang: str) -> str:
    """`18:00–21:00` (an en dash, as typeset ranges are written)."""
    return f"{format_time(start, lang)}–{format_time(end, lang)}"


def format_datetime_words(moment: datetime, lang: str) -> str:
    """`Friday 5 December 18:00` (a local datetime)."""
    return f"{format_day(moment, lang)} {format_time(moment, lang)}"


def day_heading(day: date, today: date, lang: str, *, evening: bool = False) -> str:
    """`Today` (`Tonight` when all its shifts are in the evening), `Tomorrow`, else
    `Friday 5 December`: a heading for a day of shifts (local dates)."""
    _ = gettext_for(lang)
    offset = (day - today).days
    if offset == 0:
        return _("Tonight") if evening else _("Today")
    if offset == 1:
        return _("Tomorrow")
    return format_day(day, lang)
