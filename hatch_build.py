"""Wheel build hook: ship the compiled `.mo` catalogues next to their `.po` sources.

The checkout's `.mo` files are build products git ignores (and hatch with it), so the wheel gets
them compiled here, from the committed `.po` files. An installed package then never compiles at
start-up (`watchroster.core.i18n.compiled_catalogue` still would, if a `.mo` were missing or stale).
Compiled as `i18n._compile_po` does: fuzzy entries left out, a fuzzy guess is worse than English.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LOCALES = Path("src/watchroster/locales")


class CompiledCatalogues(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":  # a checkout compiles its own (`make`, or i18n at first use)
            return
        out = Path(tempfile.mkdtemp(prefix="watchroster-mo-"))
        for po_file in sorted((Path(self.root) / LOCALES).glob("*/LC_MESSAGES/*.po")):
            relative = po_file.relative_to(Path(self.root) / "src").with_suffix(".mo")
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with po_file.open("rb") as source:
                catalog = read_po(source, locale=po_file.parent.parent.name)
            with target.open("wb") as compiled:
                write_mo(compiled, catalog, use_fuzzy=False)
            build_data["force_include"][str(target)] = relative.as_posix()
