"""The buddy fields are one Jinja macro (issue #22 §7): no page template writes them itself,
and the macro renders the ids, limits and error links each form relies on."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from watchroster.core import i18n

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "watchroster" / "web" / "templates"


def test_only_the_macro_writes_the_buddy_inputs() -> None:
    writers = {
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        for field in ('name="buddy_name"', 'name="buddy_phone"')
        if field in path.read_text(encoding="utf-8")
    }
    assert writers == {"macros/buddy.html"}
    users = {
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if "buddy_fields(" in path.read_text(encoding="utf-8")
    }
    assert {"shifts/book.html", "my/buddy.html"} <= users


def test_the_macro_links_each_error_to_its_field() -> None:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    i18n.install_jinja(env)
    page = env.from_string(
        '{% from "macros/buddy.html" import buddy_fields with context %}'
        '{{ buddy_fields("Sipho", "082", none, "Not a number", "-7") }}'
    ).render()
    assert 'id="buddy_name-7" name="buddy_name"' in page and 'value="Sipho"' in page
    assert 'maxlength="100"' in page and 'maxlength="32"' in page
    assert 'aria-describedby="buddy_phone-error-7"' in page
    assert '<p id="buddy_phone-error-7" class="error" role="alert">Not a number</p>' in page
    assert "buddy_name-error" not in page, "no error, no link"
