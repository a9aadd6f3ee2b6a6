"""A practitioner's reflections as files to keep (CPD evidence): Markdown and CSV.

Pure functions over loaded :class:`~assistant.models.Reflection` rows (their answers
loaded); nothing here reads the database. Answers are the practitioner's own text, so
both formats neutralise what a viewer would run: HTML in Markdown, formulas in CSV.
"""
from __future__ import annotations

import csv
import io
from typing import List

from assistant.faq_io import spreadsheet_cell
from assistant.models import Reflection


def _md_escape(value: str) -> str:
    return (value or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def export_markdown(reflections: List[Reflection]) -> str:
    """Reflections as Markdown (CPD evidence); HTML in answers is escaped."""
    out = ["# My reflections", ""]
    for r in reflections:
        when = (r.completed_at or r.started_at).strftime("%d %B %Y")
        out += [f"## {when}: {_md_escape(r.set_name)}", "",
                f"Status: {r.status.replace('_', ' ')}; shared with line manager: {'yes' if r.shared else 'no'}", ""]
        for a in r.answers:
            out += [f"**{_md_escape(a.question)}**", "", "_(skipped)_" if a.skipped else _md_escape(a.answer), ""]
    return "\n".join(out)


def export_csv(reflections: List[Reflection]) -> str:
    """Reflections as CSV, one row per answer; no cell can start a spreadsheet formula."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["reflection_id", "date", "question_set", "status", "shared", "question", "answer", "skipped"])
    for r in reflections:
        for a in r.answers:
            writer.writerow([spreadsheet_cell(v) for v in (
                r.id, (r.completed_at or r.started_at).date().isoformat(), r.set_name, r.status,
                "yes" if r.shared else "no", a.question, a.answer or "", "yes" if a.skipped else "no")])
    return buf.getvalue()
