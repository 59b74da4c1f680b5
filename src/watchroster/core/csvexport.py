"""CSV downloads (attendance figures, the incident inbox): one writer for every export.

Cells that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, carriage return at
the start) get a leading apostrophe: an incident text typed by a volunteer must never run as a
formula on a coordinator's laptop (CSV injection). Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Response

MEDIA_TYPE = "text/csv; charset=utf-8"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None


def _safe(cell: Cell) -> str | int | float:
    if cell is None:
        return ""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The whole file: a header line, then one line per row (CRLF line ends, as RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_safe(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def attachment(filename: str) -> dict[str, str]:
    """Headers of a download: saved under `filename`, never kept by a shared cache."""
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    }


def download(body: str, filename: str) -> Response:
    """The CSV file as a response (API and console pages alike), saved under `filename`."""
    return Response(body, media_type=MEDIA_TYPE, headers=attachment(filename))


def documented(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entry of an endpoint's CSV answer (200), to merge into its `responses`."""
    return {
        200: {
            "description": description,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
