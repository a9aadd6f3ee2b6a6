"""Measuring the assistant: ``evaluate`` (trained models on evaluation sets), ``bench``,
``loadtest`` (a running stack under load) and ``bench-masking``. Registered by assistant.cli,
which holds the parser."""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from assistant.config import get_settings


def cmd_evaluate(args) -> int:
    """Answered correctly / wrongly and out-of-scope declined of trained model(s) on evaluation
    sets (default: the retraining gate's set), with the action server's decision (JSON with --json)."""
    import json
    from pathlib import Path

    from assistant import evaluation
    from assistant.answering import thresholds_from

    settings = get_settings()
    sets = {Path(p).stem: Path(p) for p in (args.set or [str(evaluation.GATE_SET)])}
    if args.faqs == "database":
        docs = evaluation.documents_from_database(settings.database_url)
    else:
        docs = evaluation.documents_from_file(Path(args.faqs))
    results = []
    for model in args.model:
        per_set = evaluation.evaluate_model(Path(model), sets, thresholds_from(settings), docs)
        if not args.rows:
            for figures in per_set.values():
                figures.pop("rows")
        results.append(per_set if len(sets) > 1 else next(iter(per_set.values())))
    print(json.dumps(results) if args.json else "\n".join(json.dumps(r, indent=2) for r in results))
    return 0


def cmd_bench(args) -> int:
    """Run the benchmark (accuracy, seed spread, latency, training time, memory) and print a table."""
    from assistant.bench import run_bench

    return run_bench(skip_training=args.skip_training, requests_per_user=args.requests,
                     skip_stability=True if args.skip_stability else None)


def cmd_loadtest(args) -> int:
    """Load a running assistant through its web API like its users do (closed loop, open loop
    or one growing conversation) and print msg/s, latency and CPU per message (JSON with --json)."""
    import asyncio
    import json

    from assistant import evaluation, loadtest

    if args.top:
        for path in args.top:
            top = loadtest.top_functions(Path(path).read_text(), n=args.top_n)
            print(f"{path}: {top['samples']} samples")
            for what in ("self", "total"):
                print(f"  top by {what}:")
                for name, share in top[what]:
                    print(f"    {share * 100:5.1f}%  {name}")
        return 0
    users_file = Path(args.users_file)
    if args.create_users:
        from assistant.db import session_scope

        prefix = args.prefix or f"load{secrets.token_hex(2)}-"
        with session_scope(get_settings().database_url) as session:
            creds = loadtest.create_users(args.create_users, prefix, session=session)
        users_file.parent.mkdir(parents=True, exist_ok=True)
        users_file.write_text("".join(f"{u} {p}\n" for u, p in creds))
        os.chmod(users_file, 0o600)
        print(f"created {len(creds)} users ({prefix}0...) in the database; credentials in {users_file}")
    creds = loadtest.read_credentials(users_file)
    dev = evaluation.load_questions(evaluation.DEV_SET if evaluation.DEV_SET.exists() else evaluation.GATE_SET)
    pids = {}
    for item in args.pid:
        name, _, pid = item.partition("=")
        pids[name] = int(pid)
    pids = pids or None
    url = args.url.rstrip("/")

    def started() -> None:  # for a profiler started alongside: the timed window begins now
        print(f"loadtest: logged in; running ({args.mode})", file=sys.stderr, flush=True)

    if args.mode == "growth":
        result = asyncio.run(loadtest.growth(url, creds[0], args.messages, loadtest.growth_questions(dev), pids=pids,
                                              on_start=started))
    elif args.mode == "open":
        result = asyncio.run(loadtest.open_loop(url, creds[:args.users], args.rate, args.seconds,
                                                [t for t, _ in dev], pids=pids, on_start=started))
    else:
        result = asyncio.run(loadtest.closed_loop(url, creds[:args.users], args.seconds, [t for t, _ in dev],
                                                  pids=pids, on_start=started))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        key = {"growth": "growth", "open": "open"}.get(args.mode)
        table = loadtest.rows({"loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
                               **({key: result} if key else {"closed": {str(result["users"]): result}})})
        width = max(len(r[0]) for r in table)
        for name, value, target in table:
            print(f"{name.ljust(width)}  {value:>24}  {target}")
    return 0 if result.get("errors", 0) == 0 else 1


def cmd_bench_masking(args) -> int:
    """Masking recall and precision per identifier type, and ordinary sentences untouched, on
    content/masking_corpus.yml (no model or running stack needed); exit 1 below target."""
    from assistant import masking_eval

    results = masking_eval.evaluate()
    masking_eval.print_report(results, details=not args.quiet)
    return 0 if masking_eval.meets_targets(results) else 1
