"""FAQ import and export: the repo's YAML content format and CSV. Imports are
all-or-nothing: every row is validated first and errors are reported by row."""
from __future__ import annotations

import csv
import io
from typing import Dict, List, Tuple

import yaml

from assistant.content import ContentError, FaqContent, dump_yaml, parse_faqs

CSV_FIELDS = ["key", "category", "question", "answer", "source", "status", "last_reviewed", "review_by", "examples"]
EXAMPLE_SEPARATOR = " | "
MAX_IMPORT_BYTES = 2_000_000


class ImportErrors(ValueError):
    """Validation failed; ``errors`` lists (row, message) and nothing was changed."""

    def __init__(self, errors: List[Tuple[int, str]]) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing was imported")
        self.errors = errors


def to_yaml(items: List[Dict]) -> str:
    """FAQs (as exported dicts) in the content file's YAML format."""
    return "# FAQ content exported from the programme team's pages.\n" + dump_yaml(items)


def to_csv(items: List[Dict]) -> str:
    """FAQs as CSV, one row per FAQ, examples joined with " | "."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for item in items:
        row = {k: item.get(k, "") for k in CSV_FIELDS}
        row["status"] = item.get("status", "published")
        row["examples"] = EXAMPLE_SEPARATOR.join(item.get("examples", []))
        for k in ("last_reviewed", "review_by"):
            row[k] = str(row[k] or "")
        writer.writerow(row)
    return buf.getvalue()


def _row_errors(exc: Exception) -> str:
    return str(exc).replace("FAQ #1: ", "")


def parse_csv(text: str) -> List[FaqContent]:
    """Validate a CSV import; raise :class:`ImportErrors` with every bad row."""
    if len(text.encode("utf-8")) > MAX_IMPORT_BYTES:
        raise ImportErrors([(0, "The file is too large (2 MB at most).")])
    reader = csv.DictReader(io.StringIO(text))
    missing = [f for f in CSV_FIELDS if f not in (reader.fieldnames or [])]
    if missing:
        raise ImportErrors([(1, f"missing column(s): {', '.join(missing)}")])
    raw, errors = [], []
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        entry = {k: (row.get(k) or "").strip() for k in CSV_FIELDS}
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
    if len(text.encode("utf-8")) > MAX_IMPORT_BYTES:
        raise ImportErrors([(0, "The file is too large (2 MB at most).")])
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
