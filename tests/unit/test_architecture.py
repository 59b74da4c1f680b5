"""Raw SQL stays contained (issue #22 §4), checked on the imports of every module (parsed with
`ast`, nothing is imported):

- prepared statements (`db.rawsql`) only in `db/` and the hot paths' modules of
  `rawsql.HOT_PATHS`, the one allow-list;
- `HOT_PATHS` is exact: every module it lists does import the raw layer, so a path that moved
  back to the ORM leaves the list too;
- the web layer has no database access of its own: no module under `web/` imports
  `watchroster.db` or SQLAlchemy, names `RawTransaction` or `Prepared`, or opens a transaction
  (`db.read()`, `db.write()`, `db.raw_*()`) or chooses where one runs (`offload_read`,
  `offload_write`). A page asks a service: `await context.db.run_read(service_fn, ...)`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import watchroster
from watchroster.db.rawsql import HOT_PATHS

PACKAGE = Path(watchroster.__file__).parent
RAW = "watchroster.db.rawsql"

# A db scope opened with no arguments (`db.read()`), and any `offload_*`: the database layer's job.
_SCOPE_CALLS = frozenset({"read", "write", "raw_read", "raw_write"})
_RAW_NAMES = frozenset({"RawTransaction", "Prepared"})


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
    assert outside == set(), "prepared statements outside the allow-list"


def test_every_allowed_module_exists() -> None:
    modules = set(_modules())
    for path, allowed in HOT_PATHS.items():
        assert allowed <= modules, f"{path}: {sorted(allowed - modules)} do not exist"


def test_every_allowed_module_imports_the_raw_layer() -> None:
    # The allow-list stays exact: an entry whose module went back to the ORM must go.
    importers = _raw_importers()
    for path, allowed in HOT_PATHS.items():
        assert allowed <= importers, f"{path}: {sorted(allowed - importers)} no longer import it"


def test_the_web_layer_imports_no_database() -> None:
    assert _web_offenders() == set()


def _web_files() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted((PACKAGE / "web").rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield _module_name(path), ast.parse(path.read_text(), str(path))


def _scope_uses(tree: ast.AST) -> Iterator[str]:
    """`x.db.read()`, `db.offload_write(...)`, `RawTransaction`...: what only `db/` and the
    services may do, as `line: code`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr.startswith("offload_") or (
                node.func.attr in _SCOPE_CALLS and not node.args and not node.keywords
            ):
                yield f"{node.lineno}: {ast.unparse(node.func)}"
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in _RAW_NAMES:
                yield f"{node.lineno}: {name}"


def _scope_offenders() -> dict[str, list[str]]:
    found = {module: list(_scope_uses(tree)) for module, tree in _web_files()}
    return {module: uses for module, uses in found.items() if uses}


def test_the_scope_check_sees_a_scope() -> None:
    # The check itself: each form it must catch, caught (and a plain `.read()` of a file too,
    # which is why the check is for the web layer only, where nothing else is read that way).
    code = "async def f(c):\n    with c.db.read() as s: pass\n    await c.db.offload_write(g)\n"
    code += "    with c.db.raw_write() as t: pass\n    x: RawTransaction\n"
    assert sorted(_scope_uses(ast.parse(code))) == [
        "2: c.db.read",
        "3: c.db.offload_write",
        "4: c.db.raw_write",
        "5: RawTransaction",
    ]
    assert list(_scope_uses(ast.parse("async def f(c): await c.db.run_read(g, 1)"))) == []


def test_the_web_layer_opens_no_transaction_of_its_own() -> None:
    offenders = _scope_offenders()
    assert offenders == {}, "the web layer runs services with context.db.run_read/run_write"
