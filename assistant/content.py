"""FAQ content as code: read and validate the repo's content file, seed the
database from it, export the database back to it, and generate Rasa NLU data."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Iterable, List, Optional

import yaml
from pydantic import BaseModel, ValidationError, constr, validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from assistant.models import Faq, FaqExample, utcnow

KEY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
MAX_ANSWER_CHARS = 4000
MAX_EXAMPLE_CHARS = 300
NLU_HEADER = (
    "# GENERATED from content/faqs.yml by `python -m assistant nlu` (make nlu).\n"
    "# Do not edit by hand: edit content/faqs.yml or use the programme team's pages.\n"
)


class ContentError(ValueError):
    """The content file is invalid; the message lists every problem found."""


class FaqContent(BaseModel):
    """One FAQ as it appears in ``content/faqs.yml``."""

    key: constr(regex=KEY_PATTERN)
    category: constr(regex=KEY_PATTERN)
    question: constr(strip_whitespace=True, min_length=3, max_length=300)
    answer: constr(strip_whitespace=True, min_length=10, max_length=MAX_ANSWER_CHARS)
    source: constr(strip_whitespace=True, min_length=3, max_length=1000)
    status: str = "published"
    last_reviewed: Optional[dt.date] = None
    review_by: Optional[dt.date] = None
    examples: List[constr(strip_whitespace=True, min_length=2, max_length=MAX_EXAMPLE_CHARS)]

    @validator("status")
    def _status(cls, value):  # noqa: N805
        if value not in ("draft", "published"):
            raise ValueError("status must be draft or published")
        return value

    @validator("examples")
    def _unique_examples(cls, value):  # noqa: N805
        seen = set()
        for text in value:
            norm = normalise(text)
            if norm in seen:
                raise ValueError(f"duplicate example: {text!r}")
            seen.add(norm)
        return value


def normalise(text: str) -> str:
    """Lower-case, expand "what's", drop punctuation and extra spaces (for duplicate checks)."""
    text = re.sub(r"\bwhat'?s\b", "what is", text.lower())
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]", " ", text)).strip()


def parse_faqs(raw: object) -> List[FaqContent]:
    """Validate parsed YAML; raise :class:`ContentError` listing every problem."""
    if not isinstance(raw, list):
        raise ContentError("the FAQ file must be a list of FAQs")
    items, errors, keys = [], [], set()
    for index, entry in enumerate(raw, start=1):
        try:
            item = FaqContent.parse_obj(entry)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"])
                errors.append(f"FAQ #{index}: {where}: {err['msg']}")
            continue
        if item.key in keys:
            errors.append(f"FAQ #{index}: duplicate key {item.key!r}")
        keys.add(item.key)
        items.append(item)
    seen_examples: dict = {}
    for item in items:
        for text in item.examples:
            other = seen_examples.setdefault(normalise(text), item.key)
            if other != item.key:
                errors.append(f"example {text!r} is in both {other} and {item.key}")
    if errors:
        raise ContentError("; ".join(errors))
    return items


def load_faq_file(path: Path) -> List[FaqContent]:
    """Read and validate a FAQ content file."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from exc
    return parse_faqs(raw)


def seed_faqs(items: Iterable[FaqContent], *, session: Session, overwrite: bool = False) -> dict:
    """Insert FAQs missing from the database; with ``overwrite`` replace existing ones.

    Without ``overwrite`` an FAQ already in the database is left alone, so edits
    made in the web app survive a restart. Returns counts of what happened.
    """
    existing = {f.key: f for f in session.scalars(select(Faq).options(selectinload(Faq.examples)))}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for item in items:
        faq = existing.get(item.key)
        if faq is None:
            faq = Faq(key=item.key)
            session.add(faq)
            counts["created"] += 1
        elif not overwrite:
            counts["unchanged"] += 1
            continue
        else:
            faq.version = (faq.version or 1) + 1
            counts["updated"] += 1
        faq.category = item.category
        faq.question = item.question
        faq.answer = item.answer
        faq.source = item.source
        faq.status = item.status
        faq.last_reviewed = item.last_reviewed
        faq.review_by = item.review_by
        faq.updated_at = utcnow()
        set_examples(faq, item.examples)
    session.flush()
    return counts


def set_examples(faq: Faq, texts: List[str]) -> None:
    """Make ``faq``'s examples exactly ``texts``, keeping rows that stay (no unique clashes)."""
    wanted = list(dict.fromkeys(texts))
    keep = [e for e in faq.examples if e.text in wanted]
    have = {e.text for e in keep}
    faq.examples = keep + [FaqExample(text=t) for t in wanted if t not in have]


def export_faqs(*, session: Session) -> List[dict]:
    """All FAQs in the database as plain dicts in the content file's shape."""
    faqs = session.scalars(select(Faq).options(selectinload(Faq.examples)).order_by(Faq.id))
    out = []
    for faq in faqs:
        item = {
            "key": faq.key,
            "category": faq.category,
            "question": faq.question,
            "answer": faq.answer,
            "source": faq.source,
        }
        if faq.status != "published":
            item["status"] = faq.status
        if faq.last_reviewed:
            item["last_reviewed"] = faq.last_reviewed
        if faq.review_by:
            item["review_by"] = faq.review_by
        item["examples"] = [e.text for e in faq.examples]
        out.append(item)
    return out


def render_nlu(items: Iterable[FaqContent]) -> str:
    """Rasa NLU training data (retrieval intents ``faq/<key>``) for the given FAQs.

    Response texts are placeholders: the live answer always comes from the
    database via ``action_answer_faq``, so editing an answer needs no retraining.
    """
    nlu, responses = [], {}
    for item in items:
        if item.status != "published":
            continue
        nlu.append({"intent": f"faq/{item.key}", "examples": "".join(f"- {t}\n" for t in item.examples)})
        responses[f"utter_faq/{item.key}"] = [{"text": f"(answer to '{item.question}' is served from the database)"}]
    return NLU_HEADER + dump_yaml({"version": "3.1", "nlu": nlu, "responses": responses})


class _BlockDumper(yaml.SafeDumper):
    """YAML dumper that writes multi-line strings as ``|`` blocks (readable diffs)."""


def _str_representer(dumper: yaml.SafeDumper, data: str):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_BlockDumper.add_representer(str, _str_representer)


def dump_yaml(data: object) -> str:
    """Dump ``data`` as YAML in key order, multi-line strings as blocks."""
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)
