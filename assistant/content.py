"""FAQ content as code: read and validate the repo's content file, seed the
database from it, export the database back to it, and generate Rasa NLU data.

The rules every FAQ must meet live here, in :class:`FaqContent` and :func:`parse_faqs`, so
the CLI (``content load``), the programme team's import and editing pages and the tests
all apply the same ones: a source, an answer of at most ``MAX_ANSWER_WORDS`` words, valid
dates and unique keys; a content file's FAQs also need both review dates."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Iterable, List, Optional, Sequence, Tuple

import yaml
from pydantic import BaseModel, ValidationError, constr, validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from assistant.models import Faq, FaqExample, utcnow

KEY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
MAX_ANSWER_CHARS = 4000
# Practitioners read answers between sessions: aim for 80 words, never more than 120
# (issue 10). The target is reported by the content check; the maximum is enforced.
TARGET_ANSWER_WORDS = 80
MAX_ANSWER_WORDS = 120
# Two example questions that differ by this many words or fewer (and share most of their
# words) teach the model nothing new: the content check refuses them.
NEAR_DUPLICATE_WORDS = 2
WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019.\-][A-Za-z0-9]+)*")
MAX_EXAMPLE_CHARS = 300
NLU_HEADER = (
    "# GENERATED from content/faqs.yml by `python -m assistant nlu` (make nlu).\n"
    "# Do not edit by hand: edit content/faqs.yml or use the programme team's pages.\n"
)


class ContentError(ValueError):
    """The content file is invalid; the message lists every problem found (also in ``problems``)."""

    def __init__(self, message: str, problems: Optional[List[str]] = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


def word_count(text: str) -> int:
    """Words in an answer as a reader sees them (Markdown marks and punctuation not counted)."""
    return len(WORD.findall(text or ""))


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

    @validator("answer")
    def _answer_length(cls, value):  # noqa: N805
        words = word_count(value)
        if words > MAX_ANSWER_WORDS:
            # no "; " in the message: import reports split problems on it
            raise ValueError(f"the answer has {words} words (at most {MAX_ANSWER_WORDS})")
        return value

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


def _word_edits(a: Sequence[str], b: Sequence[str]) -> int:
    """Word-level edit distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, word in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1]


def near_duplicates(examples: Iterable[str]) -> List[Tuple[str, str]]:
    """Pairs of example questions that differ only by a word or two.

    Two examples are near-duplicates when, after :func:`normalise`, at most
    ``NEAR_DUPLICATE_WORDS`` words are added, removed or swapped and those edits are at
    most a third of the longer question: "what is the role of the RO" / "what is the role
    of an RO" is one; "define SEED" / "explain SEED" (half the words differ) is not.
    """
    words = [(text, normalise(text).split()) for text in examples]
    pairs = []
    for i, (text, a) in enumerate(words):
        for other, b in words[i + 1:]:
            if abs(len(a) - len(b)) > NEAR_DUPLICATE_WORDS:
                continue
            edits = _word_edits(a, b)
            if 0 < edits <= NEAR_DUPLICATE_WORDS and 3 * edits <= max(len(a), len(b)):
                pairs.append((text, other))
    return pairs


def _label(index: int, entry: Any) -> str:
    """How a problem names its FAQ: position, and key when there is one (import splits on ": ")."""
    key = entry.get("key") if isinstance(entry, dict) else None
    return f"FAQ #{index}: {key}" if isinstance(key, str) and key else f"FAQ #{index}"


def _file_problems(index: int, item: FaqContent) -> List[str]:
    """Rules for FAQs kept in a content file: both review dates, in order."""
    problems = []
    for field in ("last_reviewed", "review_by"):
        if getattr(item, field) is None:
            problems.append(f"{_label(index, {'key': item.key})}: {field}: missing (a YYYY-MM-DD date)")
    if item.last_reviewed and item.review_by and item.review_by <= item.last_reviewed:
        problems.append(f"{_label(index, {'key': item.key})}: review_by: must be after last_reviewed")
    return problems


def parse_faqs(raw: object, *, origin: Optional[str] = None, require_review_dates: bool = False) -> List[FaqContent]:
    """Validate parsed YAML; raise :class:`ContentError` listing every problem.

    Each problem names the FAQ (position and key), the field and the reason, prefixed with
    ``origin`` (the file) when given. ``require_review_dates`` adds the content file's rule
    that every FAQ carries both review dates (drafts made in the web app may not yet).
    """
    where_from = f"{origin}: " if origin else ""
    if not isinstance(raw, list):
        raise ContentError(f"{where_from}the FAQ file must be a list of FAQs")
    items, errors, keys = [], [], set()
    for index, entry in enumerate(raw, start=1):
        try:
            item = FaqContent.parse_obj(entry)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"])
                errors.append(f"{_label(index, entry)}: {where}: {err['msg']}")
            continue
        if item.key in keys:
            errors.append(f"{_label(index, entry)}: duplicate key {item.key!r}")
        keys.add(item.key)
        if require_review_dates:
            errors.extend(_file_problems(index, item))
        items.append(item)
    seen_examples: dict = {}
    for item in items:
        for text in item.examples:
            other = seen_examples.setdefault(normalise(text), item.key)
            if other != item.key:
                errors.append(f"example {text!r} is in both {other} and {item.key}")
    if errors:
        problems = [where_from + e for e in errors]
        raise ContentError("; ".join(problems), problems)
    return items


def load_faq_file(path: Path) -> List[FaqContent]:
    """Read and validate a FAQ content file (errors name the file, the FAQ and the reason)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from exc
    return parse_faqs(raw, origin=str(path), require_review_dates=True)


CONTENT_FIELDS = ("category", "question", "answer", "source", "status", "last_reviewed", "review_by")


def _differs(faq: Faq, item: FaqContent) -> bool:
    """True if loading ``item`` would change anything a reviewer sees in ``faq``.

    Examples compare as a set: the database keeps existing rows first, so their order
    after a load need not match the file's, and order alone is no change.
    """
    return any(getattr(faq, f) != getattr(item, f) for f in CONTENT_FIELDS) or \
        {e.text for e in faq.examples} != set(item.examples)


def seed_faqs(items: Iterable[FaqContent], *, session: Session, overwrite: bool = False,
              revision_action: Optional[str] = "load", user: Any = None) -> dict:
    """Insert FAQs missing from the database; with ``overwrite`` replace changed ones.

    Without ``overwrite`` an FAQ already in the database is left alone, so edits
    made in the web app survive a restart. With it, an FAQ whose content differs is
    replaced and its version bumped; an identical one is left alone. Unless
    ``revision_action`` is None, every FAQ created or changed in a database that already
    held FAQs gets a revision (before/after, ``user``; None for the command line), so a
    reviewer sees each change in the programme team's history and can revert it. The
    first load into an empty database is the baseline and records none. Returns counts.
    """
    from assistant.faq_admin import record_revision, snapshot  # faq_admin imports this module

    existing = {f.key: f for f in session.scalars(select(Faq).options(selectinload(Faq.examples)))}
    record = revision_action is not None and bool(existing)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for item in items:
        faq = existing.get(item.key)
        before = None
        if faq is None:
            faq = Faq(key=item.key, version=1)
            session.add(faq)
            counts["created"] += 1
        elif not overwrite or not _differs(faq, item):
            counts["unchanged"] += 1
            continue
        else:
            before = snapshot(faq)
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
        faq.updated_by = getattr(user, "id", None)
        set_examples(faq, item.examples)
        if record:
            session.flush()
            record_revision(faq, revision_action, before, user, session=session)
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
