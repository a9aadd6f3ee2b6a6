"""``make bench``: FAQ accuracy (answered correctly, answered wrongly, out-of-scope
declined) on the dev set and on the held-out set through the running stack, the
run-to-run spread of those measures (5 training seeds, and one added example), message
latency through the web app at 1 and 20 concurrent users, training time, and resident
memory of each process. Prints a table; writes var/bench/results.json.

Then the load runs (:mod:`assistant.loadtest`): realistic conversations (FAQs, chit-chat,
whole reflections with the share question) from 20 and 50 users chatting continuously for
60 s each, an open-loop run at 10 messages per second (Poisson arrivals, latency from the
scheduled time), and one user's 300-message conversation; msg/s, p50/p95/p99 and CPU per
message of each process. Shorter with ``ASSISTANT_BENCH_SUSTAINED_SECONDS`` /
``ASSISTANT_BENCH_OPEN_SECONDS`` / ``ASSISTANT_BENCH_GROWTH_MESSAGES``; skipped with
``ASSISTANT_BENCH_LOAD=0`` (see :class:`assistant.loadtest.LoadSettings`).

The spread costs five more trainings (about 10 minutes on 2 cores): skip it for a quick
run with ``--skip-stability`` or ``ASSISTANT_BENCH_STABILITY=0``."""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import List, Optional, Tuple

import httpx

from assistant import evaluation, loadtest, masking_eval
from assistant.bench_stability import stability, training_time
from assistant.config import PROJECT_ROOT, get_settings
from assistant.db import session_scope
from assistant.migrations import upgrade
from assistant.seed import seed_content
from assistant.stack import Ports, random_tokens, start_stack
from assistant.users import create_user
from assistant.web.render import payload_key

DEV_SET = evaluation.DEV_SET
HELDOUT_SET = evaluation.HELDOUT_SET
BENCH_DIR = PROJECT_ROOT / "var" / "bench"


def load_dev_set(path: Path = DEV_SET) -> List[Tuple[str, str]]:
    """(question, expected key or "out_of_scope") pairs of an evaluation set."""
    return evaluation.load_questions(path)


def classify_reply(messages: List[dict]) -> Tuple[str, Optional[str]]:
    """("answer", key) / ("suggest", first key) / ("decline", None) for a chat reply."""
    for m in messages:
        if m.get("type") == "faq_answer":
            return "answer", m.get("faq_key")
    for m in messages:
        keys = [payload_key(b.get("payload")) for b in m.get("buttons") or []]
        keys = [k for k in keys if k]
        if keys:
            return "suggest", keys[0]
    return "decline", None


score = evaluation.score


async def _login(client: httpx.AsyncClient, username: str, password: str) -> None:
    resp = await client.post("/api/login", json={"username": username, "password": password})
    resp.raise_for_status()


async def accuracy(base_url: str, username: str, password: str, dev: List[Tuple[str, str]]):
    """Ask every dev question through the web app; return result rows."""
    rows = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await _login(client, username, password)
        for text, expected in dev:
            resp = await client.post("/api/chat", json={"message": text})
            kind, key = classify_reply(resp.json().get("messages", [])) if resp.status_code == 200 else ("error", None)
            rows.append((text, expected, kind, key))
    return rows


async def latency(base_url: str, users: List[Tuple[str, str]], questions: List[str], per_user: int):
    """Closed-loop load: each user sends ``per_user`` messages back to back. Returns (ms list, errors).

    Every user logs in before anyone sends a message, so the (deliberately slow) password
    hashing of the logins is not counted as message latency."""
    timings: List[float] = []
    errors = 0
    logged_in = 0
    all_logged_in = asyncio.Event()

    async def one_user(idx: int, username: str, password: str) -> None:
        nonlocal errors, logged_in
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            await _login(client, username, password)
            logged_in += 1
            if logged_in == len(users):
                all_logged_in.set()
            await all_logged_in.wait()
            for i in range(per_user):
                text = questions[(idx * 7 + i) % len(questions)]
                start = time.perf_counter()
                try:
                    resp = await client.post("/api/chat", json={"message": text})
                    ok = resp.status_code == 200
                except httpx.HTTPError:
                    ok = False
                timings.append((time.perf_counter() - start) * 1000)
                errors += 0 if ok else 1

    await asyncio.gather(*(one_user(i, u, p) for i, (u, p) in enumerate(users)))
    return timings, errors


percentile = loadtest.percentile  # nearest rank


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    pids = [pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(p) for p in out]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def run_bench(skip_training: bool = False, requests_per_user: int = 10, skip_stability: Optional[bool] = None) -> int:
    """Run every measurement and print the table."""
    settings = get_settings()
    if skip_stability is None:
        skip_stability = os.environ.get("ASSISTANT_BENCH_STABILITY", "1") in ("0", "false", "no")
    if BENCH_DIR.exists():
        shutil.rmtree(BENCH_DIR)
    BENCH_DIR.mkdir(parents=True)
    db_url = f"sqlite:///{BENCH_DIR / 'bench.db'}"
    upgrade(db_url)
    users = [(f"bench{i}", secrets.token_urlsafe(12)) for i in range(21)]
    load = loadtest.LoadSettings.from_env()
    with session_scope(db_url) as session:
        seed_content(settings.content_dir, session=session)
        for name, password in users:
            create_user(username=name, password=password, role="practitioner", session=session)
        load_users = loadtest.create_users(load.users_needed(), "load", session=session) if load.enabled else []

    train_s = None if skip_training else training_time(BENCH_DIR / "models")
    models_dir = BENCH_DIR / "models" if train_s is not None else settings.models_dir
    sets = {"dev": DEV_SET}
    if HELDOUT_SET.exists():
        sets["heldout"] = HELDOUT_SET
    if evaluation.BLIND_SET.exists():
        sets["blind"] = evaluation.BLIND_SET
    questions_by_set = {name: load_dev_set(path) for name, path in sets.items()}
    ports = Ports(actions=5155, rasa=5105, web=8100, rasa_instances=settings.rasa_instances)
    stack = start_stack(db_url, ports, random_tokens(), BENCH_DIR / "logs",
                        extra_env={"ASSISTANT_MODELS_DIR": str(models_dir)})
    try:
        rows = {name: asyncio.run(accuracy(stack.web_url, *users[0], qs)) for name, qs in questions_by_set.items()}
        questions = [t for t, _ in questions_by_set["dev"]]
        asyncio.run(latency(stack.web_url, users[:1], questions, 3))  # warm-up
        one, one_err = asyncio.run(latency(stack.web_url, users[:1], questions, requests_per_user * 5))
        twenty, twenty_err = asyncio.run(latency(stack.web_url, users[1:21], questions, requests_per_user))
        memory = {name: rss_mb(pid) for name, pid in stack.pids().items()}
        load_results = loadtest.run_suite(stack.web_url, load_users, stack.pids(), questions_by_set["dev"], load) \
            if load.enabled else None
        memory_after = {name: rss_mb(pid) for name, pid in stack.pids().items()} if load.enabled else None
    finally:
        stack.stop_all()

    stab = None
    if not skip_stability:
        base = models_dir / "model.tar.gz" if train_s is not None else max(
            settings.models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
        stab = stability(base, BENCH_DIR / "stability", {**sets, "gate": evaluation.GATE_SET})

    results = {
        "accuracy": {name: score(r) for name, r in rows.items()},
        "misses": {name: evaluation.misses(r) for name, r in rows.items()},
        "latency_1_user_ms": {"n": len(one), "p50": percentile(one, 50), "p95": percentile(one, 95), "errors": one_err},
        "latency_20_users_ms": {"n": len(twenty), "p50": percentile(twenty, 50), "p95": percentile(twenty, 95),
                                "errors": twenty_err},
        "training_seconds": train_s,
        "stability": stab,
        "rss_mb": memory,
        "rss_mb_after_load": memory_after,
        "load": load_results,
        "masking": masking_eval.evaluate(),  # needs no model or stack
    }
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2))
    print_table(results)
    return 0


TARGETS = {"answered_correctly": ">= 0.95", "answered_wrongly": "<= 0.01", "out_of_scope_declined": ">= 0.95"}
SET_NAMES = {"dev": "dev set", "heldout": "held-out set", "blind": "blind set", "gate": "gate set"}


def print_table(r: dict) -> None:
    """Print the benchmark results as a table."""
    l1, l20 = r["latency_1_user_ms"], r["latency_20_users_ms"]
    lines = []
    for name, a in r["accuracy"].items():
        where = f"{SET_NAMES.get(name, name)}, n={a['in_scope']}+{a['out_of_scope']}"
        for m in evaluation.MEASURES:
            count = a[m + "_n"]
            lines.append((f"{evaluation.LABELS[m]} ({where})", f"{a[m]:.3f} ({count})", TARGETS[m]))
    stab = r.get("stability")
    if stab:
        for name, per in stab["spread"].items():
            for m in evaluation.MEASURES:
                s = per[m]
                lines.append((f"{evaluation.LABELS[m]}, 5 seeds ({SET_NAMES.get(name, name)}) mean [min-max]",
                              f"{s['mean']:.3f} [{s['min']:.3f}-{s['max']:.3f}]",
                              f"spread {s['spread']:.3f} = {per['questions'][m]} q"))
            for m in evaluation.MEASURES:
                target = "< 0.01" if (m == "answered_correctly" and name == "heldout") else ""
                lines.append((f"{evaluation.LABELS[m]}, one added example ({SET_NAMES.get(name, name)})",
                              f"{stab['swing'][name][m]:+.3f}", target))
    else:
        lines.append(("Seed spread / one-example swing", "skipped", ""))
    lines += [
        ("Latency 1 user p50 / p95 (ms, n=%d)" % l1["n"], f"{l1['p50']:.0f} / {l1['p95']:.0f}", "p95 <= 150"),
        ("Latency 1 user errors", str(l1["errors"]), "0"),
        ("Latency 20 users p50 / p95 (ms, n=%d)" % l20["n"], f"{l20['p50']:.0f} / {l20['p95']:.0f}", "p95 <= 500"),
        ("Latency 20 users errors", str(l20["errors"]), "0"),
        ("Full training time (s)", "skipped" if r["training_seconds"] is None else f"{r['training_seconds']:.0f}", "<= 120"),
    ] + [(f"Resident memory: {k} (MB)", f"{v:.0f}", "") for k, v in r["rss_mb"].items()]
    lines += [(f"Resident memory after the load runs: {k} (MB)", f"{v:.0f}", "")
              for k, v in (r.get("rss_mb_after_load") or {}).items()]
    lines += loadtest.rows(r.get("load"))
    lines += masking_eval.rows(r["masking"]) if r.get("masking") else []
    width = max(len(x[0]) for x in lines)
    print(f"\n{'measure'.ljust(width)}  {'value':>22}  target")
    print("-" * (width + 40))
    for name, value, target in lines:
        print(f"{name.ljust(width)}  {value:>22}  {target}")
    dev_misses = r["misses"].get("dev") or []
    if dev_misses:
        print("\nDev-set misses (text | expected | outcome | key):")
        for text, expected, kind, key in dev_misses:
            print(f"  {text} | {expected} | {kind} | {key}")
