"""The supported languages: one list for the API's `language` field, the settings and the
catalogues (`i18n` re-exports these names).

A module of its own so that reading the settings does not import Babel and Jinja, which only
pages and messages need (start-up, issue #14 §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, get_args

Language = Literal["en", "af", "zu"]
SUPPORTED_LANGUAGES: Final[tuple[str, ...]] = get_args(Language)
SOURCE_LANGUAGE: Final[Language] = "en"
# Each language named in itself, as a language menu should show it.
LANGUAGE_NAMES: Final[Mapping[str, str]] = {"en": "English", "af": "Afrikaans", "zu": "isiZulu"}
