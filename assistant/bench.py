"""``make bench``: FAQ accuracy on the dev set through the running stack, message
latency through the web app at 1 and 20 concurrent users, training time, and
resident memory of each process. Prints a table; writes var/bench/results.json."""
from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import httpx
import yaml

from assistant.config import PROJECT_ROOT, get_settings
from assistant.seed import seed_content
from assistant.db import session_scope
from assistant.migrations import upgrade
from assistant.stack import Ports, start_stack
from assistant.users import create_user
from assistant.web.render import payload_key

DEV_SET = PROJECT_ROOT.parent / "shared" / "eval" / "faq_dev.yml"
BENCH_DIR = PROJECT_ROOT / "var" / "bench"


def load_dev_set(path: Path = DEV_SET) -> List[Tuple[str, str]]:
    """(question, expected key or "out_of_scope") pairs of the dev set."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(q["text"], q["key"]) for q in data["questions"]]


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


def score(results: List[Tuple[str, str, str, Optional[str]]]) -> Dict[str, float]:
    """Accuracy figures from (text, expected, kind, key) rows."""
    ins = [r for r in results if r[1] != "out_of_scope"]
    oos = [r for r in results if r[1] == "out_of_scope"]
    return {
        "in_scope": len(ins),
        "in_scope_answered_correct": sum(r[2] == "answer" and r[3] == r[1] for r in ins) / max(len(ins), 1),
        "in_scope_top1": sum(r[3] == r[1] for r in ins) / max(len(ins), 1),
        "in_scope_wrong_answer": sum(r[2] == "answer" and r[3] != r[1] for r in ins) / max(len(ins), 1),
        "out_of_scope": len(oos),
        "out_of_scope_declined": sum(r[2] == "decline" for r in oos) / max(len(oos), 1),
    }


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


def percentile(values: List[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(pct / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


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


def training_time(out_dir: Path) -> float:
    """Seconds for a full (forced) training run into ``out_dir``."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--force", "--data", "nlu_data", "stories",
         "--out", str(out_dir), "--quiet"],
        cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def run_bench(skip_training: bool = False, requests_per_user: int = 10) -> int:
    """Run every measurement and print the table."""
    settings = get_settings()
    if BENCH_DIR.exists():
        shutil.rmtree(BENCH_DIR)
    BENCH_DIR.mkdir(parents=True)
    db_url = f"sqlite:///{BENCH_DIR / 'bench.db'}"
    upgrade(db_url)
    users = [(f"bench{i}", secrets.token_urlsafe(12)) for i in range(21)]
    with session_scope(db_url) as session:
        seed_content(settings.content_dir, session=session)
        for name, password in users:
            create_user(username=name, password=password, role="practitioner", session=session)

    train_s = None if skip_training else training_time(BENCH_DIR / "models")
    dev = load_dev_set()
    ports = Ports(actions=5155, rasa=5105, web=8100, rasa_instances=settings.rasa_instances)
    stack = start_stack(db_url, ports, settings.rasa_token, BENCH_DIR / "logs")
    try:
        rows = asyncio.run(accuracy(stack.web_url, *users[0], dev))
        acc = score(rows)
        questions = [t for t, _ in dev]
        asyncio.run(latency(stack.web_url, users[:1], questions, 3))  # warm-up
        one, one_err = asyncio.run(latency(stack.web_url, users[:1], questions, requests_per_user * 5))
        twenty, twenty_err = asyncio.run(latency(stack.web_url, users[1:21], questions, requests_per_user))
        memory = {name: rss_mb(pid) for name, pid in stack.pids().items()}
    finally:
        stack.stop_all()

    results = {
        "accuracy": acc,
        "misses": [r for r in rows if (r[1] != "out_of_scope" and (r[2], r[3]) != ("answer", r[1]))
                   or (r[1] == "out_of_scope" and r[2] != "decline")],
        "latency_1_user_ms": {"n": len(one), "p50": percentile(one, 50), "p95": percentile(one, 95), "errors": one_err},
        "latency_20_users_ms": {"n": len(twenty), "p50": percentile(twenty, 50), "p95": percentile(twenty, 95),
                                "errors": twenty_err},
        "training_seconds": train_s,
        "rss_mb": memory,
    }
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2))
    print_table(results)
    return 0


def print_table(r: dict) -> None:
    """Print the benchmark results as a table."""
    a, l1, l20 = r["accuracy"], r["latency_1_user_ms"], r["latency_20_users_ms"]
    lines = [
        ("FAQ in-scope top-1 (dev set, n=%d)" % a["in_scope"], f"{a['in_scope_top1']:.3f}", ">= 0.92"),
        ("FAQ in-scope answered correctly", f"{a['in_scope_answered_correct']:.3f}", ""),
        ("FAQ in-scope answered wrongly", f"{a['in_scope_wrong_answer']:.3f}", ""),
        ("Out-of-scope declined (n=%d)" % a["out_of_scope"], f"{a['out_of_scope_declined']:.3f}", ">= 0.90"),
        ("Latency 1 user p50 / p95 (ms, n=%d)" % l1["n"], f"{l1['p50']:.0f} / {l1['p95']:.0f}", "p95 <= 150"),
        ("Latency 1 user errors", str(l1["errors"]), "0"),
        ("Latency 20 users p50 / p95 (ms, n=%d)" % l20["n"], f"{l20['p50']:.0f} / {l20['p95']:.0f}", "p95 <= 500"),
        ("Latency 20 users errors", str(l20["errors"]), "0"),
        ("Full training time (s)", "skipped" if r["training_seconds"] is None else f"{r['training_seconds']:.0f}", "<= 180"),
    ] + [(f"Resident memory: {k} (MB)", f"{v:.0f}", "") for k, v in r["rss_mb"].items()]
    width = max(len(x[0]) for x in lines)
    print(f"\n{'measure'.ljust(width)}  {'value':>12}  target")
    print("-" * (width + 28))
    for name, value, target in lines:
        print(f"{name.ljust(width)}  {value:>12}  {target}")
    if r["misses"]:
        print("\nDev-set misses (text | expected | outcome | key):")
        for text, expected, kind, key in r["misses"]:
            print(f"  {text} | {expected} | {kind} | {key}")
