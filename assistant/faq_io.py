"""FAQ import and export: the repo's YAML content format and CSV. Imports are
all-or-nothing: every row is validated first and errors are reported by row."""
from __future__ import annotations

import csv
import io
from typing import Dict, List, Tuple

import yaml

from assistant.content import ContentError, FaqContent, dump_yaml, parse_faqs
from assistant.errors import Invalid

CSV_FIELDS = ["key", "category", "question", "answer", "source", "status", "last_reviewed", "review_by", "examples"]
EXAMPLE_SEPARATOR = " | "
MAX_IMPORT_BYTES = 2_000_000
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection,
# OWASP); the full-width forms too, which some locales' Excel converts.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


class ImportErrors(Invalid):
    """Validation failed; ``errors`` lists (row, message) and nothing was changed."""

    def __init__(self, errors: List[Tuple[int, str]]) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing was imported", code="import_errors",
                         rows=[{"row": r, "message": m} for r, m in errors])
        self.errors = errors


def spreadsheet_cell(value: object) -> str:
    """``value`` as a CSV cell that a spreadsheet shows as text, never runs as a formula:
    a leading formula character gets a ``'`` before it. Every CSV export uses this."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def from_spreadsheet_cell(text: str) -> str:
    """Undo :func:`spreadsheet_cell`, so an exported file imports unchanged."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def to_yaml(items: List[Dict]) -> str:
    """FAQs (as exported dicts) in the content file's YAML format."""
    return "# FAQ content exported from the programme team's pages.\n" + dump_yaml(items)


def to_csv(items: List[Dict]) -> str:
    """FAQs as CSV, one row per FAQ, examples joined with " | "; no cell can start a formula."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for item in items:
        row = {k: item.get(k, "") for k in CSV_FIELDS}
        row["status"] = item.get("status", "published")
        row["examples"] = EXAMPLE_SEPARATOR.join(item.get("examples", []))
        for k in ("last_reviewed", "review_by"):
            row[k] = str(row[k] or "")
        writer.writerow({k: spreadsheet_cell(v) for k, v in row.items()})
    return buf.getvalue()


def _row_errors(exc: Exception) -> str:
    return str(exc).replace("FAQ #1: ", "")


def _check_text(text: str) -> None:
    """Refuse a file that is too large, or has characters no FAQ can hold: NUL (which the
    database refuses and the csv module can't read) and lone surrogates (not UTF-8 at all)."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise ImportErrors([(0, "The file has characters that are not valid text (lone surrogates).")])
    if size > MAX_IMPORT_BYTES:
        raise ImportErrors([(0, "The file is too large (2 MB at most).")])
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportErrors([(0, f"The file contains a NUL character (line {line}): is it a text file?")])


def parse_csv(text: str) -> List[FaqContent]:
    """Validate a CSV import; raise :class:`ImportErrors` with every bad row."""
    _check_text(text)
    reader = csv.DictReader(io.StringIO(text))
    try:
        fieldnames, rows = reader.fieldnames or [], list(reader)
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise ImportErrors([(0, f"not valid CSV: {exc}")])
    missing = [f for f in CSV_FIELDS if f not in fieldnames]
    if missing:
        raise ImportErrors([(1, f"missing column(s): {', '.join(missing)}")])
    raw, errors = [], []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        entry = {k: from_spreadsheet_cell(row.get(k) or "").strip() for k in CSV_FIELDS}
        entry["examples"] = [e.strip() for e in entry["examples"].split("|") if e.strip()]
        for k in ("last_reviewed", "review_by"):
            entry[k] = entry[k] or None
        entry["status"] = entry["status"] or "published"
        try:
            parse_faqs([entry])
        except ContentError as exc:
            errors.append((number, _row_errors(exc)))
            continue
        raw.append((number, entry))
    if errors:
        raise ImportErrors(errors)
    try:
        return parse_faqs([e for _, e in raw])
    except ContentError as exc:  # duplicates across rows
        raise ImportErrors([(0, str(exc))])


def parse_yaml(text: str) -> List[FaqContent]:
    """Validate a YAML import (the content file's format)."""
    _check_text(text)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportErrors([(0, f"not valid YAML: {exc}")])
    try:
        return parse_faqs(raw)
    except ContentError as exc:
        errors = []
        for part in str(exc).split("; "):
            if part.startswith("FAQ #"):
                number, _, message = part[5:].partition(": ")
                errors.append((int(number) if number.isdigit() else 0, message))
            else:
                errors.append((0, part))
        raise ImportErrors(errors)
