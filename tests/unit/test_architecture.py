"""Raw SQL stays contained (issue #22 §4), checked on the imports of every module (parsed with
`ast`, nothing is imported):

- prepared statements (`db.rawsql`) only in `db/` and the hot paths' modules of
  `rawsql.HOT_PATHS`, the one allow-list;
- the web layer has no database access of its own: no module under `web/` imports
  `watchroster.db` or SQLAlchemy (it asks services, e.g. through `context.db.run_read(fn)`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import watchroster
from watchroster.db.rawsql import HOT_PATHS

PACKAGE = Path(watchroster.__file__).parent
RAW = "watchroster.db.rawsql"

# Web modules still importing the database while their handlers move to use cases (issue #22
# §1/§5, other owners). Each entry must still offend (test below), so the list only shrinks.
WEB_NOT_YET_MOVED = frozenset(
    {
        "watchroster.web.routes_book",
        "watchroster.web.routes_my",
        "watchroster.web.admin.routes_exceptions",
        "watchroster.web.admin.routes_incidents",
    }
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, absolute (`from . import x` resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _modules() -> dict[str, set[str]]:
    return {
        _module_name(path): set(_imports(path))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def _is_under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _raw_importers() -> set[str]:
    return {
        module
        for module, imported in _modules().items()
        if any(_is_under(name, RAW) for name in imported)
    }


def _web_offenders() -> set[str]:
    return {
        module
        for module, imported in _modules().items()
        if _is_under(module, "watchroster.web")
        and any(
            _is_under(name, "watchroster.db") or _is_under(name, "sqlalchemy") for name in imported
        )
    }


def test_the_walk_sees_the_known_raw_importers() -> None:
    # A sanity check of the parser, not the rule: the session lookup does import the raw layer.
    assert "watchroster.auth.deps" in _raw_importers()
    assert "watchroster.db.engine" in _raw_importers()


def test_only_db_and_the_hot_paths_import_the_raw_layer() -> None:
    allowed = set().union(*HOT_PATHS.values())
    outside = {
        module
        for module in _raw_importers()
        if not _is_under(module, "watchroster.db") and module not in allowed
    }
    assert outside - WEB_NOT_YET_MOVED == set(), "prepared statements outside the allow-list"


def test_every_allowed_module_exists() -> None:
    modules = set(_modules())
    for path, allowed in HOT_PATHS.items():
        assert allowed <= modules, f"{path}: {sorted(allowed - modules)} do not exist"


def test_the_web_layer_has_no_database_access_of_its_own() -> None:
    assert _web_offenders() - WEB_NOT_YET_MOVED == set()


def test_every_web_module_not_yet_moved_still_offends() -> None:
    # Once a module is clean, its entry goes: the list cannot hide a new offender.
    assert _web_offenders() >= WEB_NOT_YET_MOVED
