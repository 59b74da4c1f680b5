"""The `Allow` header of a 405: every method the path answers, not only the first route's.

Starlette answers 405 from the first route whose path matches, so `/bookings` (POST and GET as two
routes) said `Allow: POST` alone. RFC 9110 §15.5.6 asks for the full list.
A path that answers GET answers HEAD too (`head.HeadAsGet`).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute


def allowed_methods(routes: Sequence[BaseRoute], path: str) -> str:
    """`"GET, POST"`: the methods of every route whose path pattern matches `path`."""
    methods: set[str] = set()
    for route in iter_route_contexts(routes):
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(path):
            methods.update(route.methods or ())
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))
