"""Offline evaluation of trained models: the one place FAQ accuracy is scored.

One code path, :func:`measure`, used by ``make bench`` (the seed spread that sets the
gate's noise; the running-stack figures use :func:`score` too), by the retraining gate
(:func:`gate_figures`: the same function, run in a child process of the web app so that
TensorFlow's memory goes when it ends), by ``python -m assistant evaluate`` and while tuning.

Each question of a set is parsed with the trained model and put through the same
decision the action server makes (:func:`assistant.answering.decide` with the lexical
ranker and the thresholds in ``Settings``). The three measures:

- **answered correctly**: share of in-scope questions whose reply is the right FAQ's
  answer, outright (a "Did you mean" is not an answer);
- **answered wrongly**: share of in-scope questions answered outright with another FAQ's
  answer;
- **out-of-scope declined**: share of out-of-scope questions (key ``out_of_scope``)
  declined (neither answered nor offered suggestions).
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from assistant.answering import Decision, Thresholds, decide
from assistant.config import PROJECT_ROOT
from assistant.lexical import FaqDocument, LexicalIndex, build_index, lexical_ranking
from assistant.nearest import NearestExamples, build_nearest, nearest_ranking

OUT_OF_SCOPE = "out_of_scope"
DEV_SET = PROJECT_ROOT.parent / "shared" / "eval" / "faq_dev.yml"
HELDOUT_SET = PROJECT_ROOT / "content" / "eval_heldout.yml"   # make bench: final measurement
GATE_SET = PROJECT_ROOT / "content" / "eval_gate.yml"         # the retraining gate only
BLIND_SET = PROJECT_ROOT / "content" / "eval_blind.yml"       # make bench: written blind to the training data
MEASURES = ("answered_correctly", "answered_wrongly", "out_of_scope_declined")
LABELS = {"answered_correctly": "answered correctly", "answered_wrongly": "answered wrongly",
          "out_of_scope_declined": "out-of-scope declined"}

Row = Tuple[str, str, str, Optional[str]]  # (text, expected key, outcome kind, key shown)
Parser = Callable[[Path, Sequence[str]], List[Dict[str, Any]]]  # (model, texts) -> Rasa parses


def load_questions(path: Path) -> List[Tuple[str, str]]:
    """(question, expected key or ``out_of_scope``) pairs of an evaluation set."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [(str(q["text"]), str(q["key"])) for q in data["questions"]]


def score(rows: Iterable[Sequence[Any]]) -> Dict[str, Any]:
    """The three measures (and the counts behind them) from (text, expected, kind, key) rows."""
    rows = list(rows)
    ins = [r for r in rows if r[1] != OUT_OF_SCOPE]
    oos = [r for r in rows if r[1] == OUT_OF_SCOPE]
    correct = sum(r[2] == "answer" and r[3] == r[1] for r in ins)
    wrong = sum(r[2] == "answer" and r[3] != r[1] for r in ins)
    declined = sum(r[2] == "decline" for r in oos)
    return {
        "in_scope": len(ins), "out_of_scope": len(oos),
        "answered_correctly": correct / max(len(ins), 1),
        "answered_wrongly": wrong / max(len(ins), 1),
        "out_of_scope_declined": declined / max(len(oos), 1),
        "answered_correctly_n": correct, "answered_wrongly_n": wrong, "out_of_scope_declined_n": declined,
        "out_of_scope_answered_n": sum(r[2] == "answer" for r in oos),
    }


def misses(rows: Iterable[Sequence[Any]]) -> List[Sequence[Any]]:
    """Rows that were not the right outcome (for listing)."""
    return [r for r in rows if (r[1] != OUT_OF_SCOPE and (r[2], r[3]) != ("answer", r[1]))
            or (r[1] == OUT_OF_SCOPE and r[2] != "decline")]


def outcome(decision: Decision) -> Tuple[str, Optional[str]]:
    """(kind, key the user sees) of a decision: the answer's key or the first suggestion."""
    if decision.kind == "answer":
        return "answer", decision.key
    if decision.kind == "suggest":
        return "suggest", (decision.suggestions or [None])[0]
    return "decline", None


def decide_rows(questions: Sequence[Tuple[str, str]], parses: Sequence[Dict[str, Any]],
                thresholds: Thresholds, index: Optional[LexicalIndex],
                nearest: Optional[NearestExamples] = None) -> List[Row]:
    """Apply the action server's decision to parsed questions (``nearest``: the
    nearest-example ranker, as the action server builds it from the same FAQs)."""
    rows = []
    for (text, expected), parse in zip(questions, parses):
        d = decide(parse, thresholds=thresholds, lexical=lexical_ranking(index, text) if index else None,
                   nearest=lambda text=text: nearest_ranking(nearest, text) if nearest else None)
        rows.append((text, expected) + outcome(d))
    return rows


def documents_from_items(items: Iterable[Any]) -> List[FaqDocument]:
    """Lexical documents from FAQ content items (``FaqContent`` or dicts), published only."""
    docs = []
    for item in items:
        fields = item if isinstance(item, dict) else item.dict()
        if (fields.get("status") or "published") != "published":
            continue
        docs.append(FaqDocument(fields["key"], fields["question"], tuple(fields.get("examples") or ()),
                                fields.get("answer") or ""))
    return docs


def documents_from_file(path: Path = PROJECT_ROOT / "content" / "faqs.yml") -> List[FaqDocument]:
    """Lexical documents for the FAQs of a content file."""
    from assistant.content import load_faq_file

    return documents_from_items(load_faq_file(path))


def documents_from_database(url: str) -> List[FaqDocument]:
    """Lexical documents for the published FAQs in the database at ``url``."""
    from assistant.content import export_faqs
    from assistant.db import session_scope

    with session_scope(url) as session:
        return documents_from_items(export_faqs(session=session))


def parse_all(model: Path, texts: Sequence[str]) -> List[Dict[str, Any]]:
    """Rasa's parse of each text with a trained model (loads TensorFlow)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def run():
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(run())


def evaluate_model(model: Path, sets: Dict[str, Path], thresholds: Thresholds,
                   docs: Optional[List[FaqDocument]], parse: Optional[Parser] = None) -> Dict[str, Dict[str, Any]]:
    """The measures of one model on each named set (plus the rows, under ``rows``).
    ``parse`` stands in for Rasa (:func:`parse_all`) in tests; it must be picklable."""
    index = build_index(docs) if docs else None
    nearest = build_nearest(docs) if docs else None
    loaded = {name: load_questions(path) for name, path in sets.items()}
    texts = [t for qs in loaded.values() for t, _ in qs]
    parses = iter((parse or parse_all)(model, texts))
    out = {}
    for name, questions in loaded.items():
        rows = decide_rows(questions, [next(parses) for _ in questions], thresholds, index, nearest)
        out[name] = {**score(rows), "rows": rows}
    return out


def measure(models: Sequence[Path], sets: Dict[str, Path], thresholds: Thresholds,
            docs: Optional[List[FaqDocument]], *, rows: bool = True,
            parse: Optional[Parser] = None) -> List[Dict[str, Dict[str, Any]]]:
    """The one evaluation path: for each model in turn, its measures on each named set
    (:func:`evaluate_model`); without ``rows`` the per-question outcomes are left out."""
    results = []
    stand_in = {"parse": parse} if parse is not None else {}  # none: Rasa itself
    for model in models:
        per_set = evaluate_model(Path(model), sets, thresholds, docs, **stand_in)
        if not rows:
            for figures in per_set.values():
                figures.pop("rows")
        results.append(per_set)
    return results


def gate_figures(models: Sequence[Path], *, database_url: str, thresholds: Thresholds,
                 timeout: float = 600, parse: Optional[Parser] = None) -> List[Dict[str, Any]]:
    """The retraining gate's evaluation: each model's measures on :data:`GATE_SET`, with the
    lexical ranker over the database's published FAQs (what the chat will rank), by
    :func:`measure` in a child process (see :func:`in_child`). Raises RuntimeError if the
    evaluation fails or takes longer than ``timeout`` seconds."""
    docs = documents_from_database(database_url)
    per_model = in_child(measure, ([Path(m) for m in models], {"gate": GATE_SET}, thresholds, docs),
                         {"rows": False, "parse": parse}, timeout=timeout)
    return [figures["gate"] for figures in per_model]


def in_child(func: Callable[..., Any], args: tuple = (), kwargs: Optional[Dict[str, Any]] = None, *,
             timeout: float, quiet: bool = True) -> Any:
    """``func(*args, **kwargs)`` in a new Python process; its result, or RuntimeError.

    Loading a model brings TensorFlow and the model into the process that parses: the web
    app's training worker must not keep it, so the work runs in a child that exits after.
    The child is spawned, not forked: forking a threaded web app copies locks held by other
    threads. ``func``, the arguments and the result travel by pickle. A child that outlives
    ``timeout`` is killed, and so is one left behind by a stopping parent (daemon). With
    ``quiet`` its output goes nowhere: Rasa logs every parse, which would flood the web
    app's log; a failure comes back as the error's message instead."""
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child_main, args=(send, func, args, kwargs or {}, quiet),
                        name="evaluation", daemon=True)
    child.start()
    send.close()  # ours: so that a child dying without an answer reads as end-of-file
    try:
        if not receive.poll(timeout):
            raise RuntimeError(f"evaluation took longer than {timeout:.0f} s and was stopped")
        try:
            ok, value = receive.recv()
        except EOFError:
            child.join(5)
            raise RuntimeError(f"evaluation stopped without a result (exit code {child.exitcode})") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
    if not ok:
        raise RuntimeError(f"evaluation failed: {value}")
    return value


def _child_main(send, func: Callable[..., Any], args: tuple, kwargs: Dict[str, Any], quiet: bool) -> None:
    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    try:
        reply = (True, func(*args, **kwargs))
    except BaseException as exc:  # reported to the parent, which decides (the gate: job failed)
        where = traceback.format_exc().strip().splitlines()[-3:-1]
        reply = (False, f"{type(exc).__name__}: {exc}" + (f" ({' '.join(w.strip() for w in where)})" if where else ""))
    send.send(reply)
    send.close()


def spread(results: Sequence[Dict[str, float]]) -> Dict[str, Dict[str, float]]:
    """Mean, min, max and max-min of each measure over several runs."""
    out = {}
    for m in MEASURES:
        values = [r[m] for r in results]
        out[m] = {"mean": sum(values) / len(values), "min": min(values), "max": max(values),
                  "spread": max(values) - min(values)}
    return out
