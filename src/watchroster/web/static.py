"""Static files under content-hashed names, compressed once at start-up.

`/static/app.3f2a9c1b7d.css`: the name changes whenever the content does, so browsers may keep a
file for a year without asking again (`immutable`); phones on expensive data fetch htmx and the
CSS once. Each file is gzipped once, not per request, and carries an ETag for revalidation.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

STATIC_DIR = Path(__file__).parent / "static"
# The files pages link to; anything else in the folder (licences) is not served.
SERVED = {
    "app.css": "text/css; charset=utf-8",
    "admin.css": "text/css; charset=utf-8",  # the coordinator console's wider, tabular pages
    "htmx.js": "text/javascript; charset=utf-8",
}
_SOURCES = {"app.css": "app.css", "admin.css": "admin.css", "htmx.js": "vendor/htmx-2.0.11.min.js"}
IMMUTABLE = "public, max-age=31536000, immutable"

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Asset:
    url: str
    media_type: str
    body: bytes
    gzipped: bytes
    etag: str


def _asset(name: str) -> Asset:
    body = (STATIC_DIR / _SOURCES[name]).read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:10]
    stem, _, suffix = name.rpartition(".")
    # mtime=0: the same bytes on every start, so the ETag of the compressed body is stable.
    gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    return Asset(f"/static/{stem}.{digest}.{suffix}", SERVED[name], body, gzipped, f'"{digest}"')


@cache
def assets() -> dict[str, Asset]:
    """By URL; read once per process."""
    built = [_asset(name) for name in SERVED]
    return {asset.url: asset for asset in built}


@cache
def static_url(name: str) -> str:
    """The hashed URL of `name` (`app.css`, `htmx.js`), for templates."""
    return _asset(name).url


def _accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


@router.get("/static/{file_name}")
def static_file(file_name: str, request: Request) -> Response:
    asset = assets().get(f"/static/{file_name}")
    if asset is None:
        return Response("not found", status_code=404, media_type="text/plain")
    headers = {"Cache-Control": IMMUTABLE, "ETag": asset.etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    if _accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
