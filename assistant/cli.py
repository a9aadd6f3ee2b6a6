"""Command-line interface: ``python -m assistant <command>`` (see ``--help``)."""
from __future__ import annotations

import argparse
import logging
import getpass
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import List, Optional

from assistant import cli_users
from assistant.config import PROJECT_ROOT, get_settings

NLU_FILE = PROJECT_ROOT / "nlu_data" / "faq.yml"
SPACY_DIR = PROJECT_ROOT / "build" / "spacy-en"
DEMO_CREDENTIALS = PROJECT_ROOT / "var" / "demo-users.txt"
USER_ROLES = ["practitioner", "manager", "programme", "admin"]  # assistant.models.ROLES, without its imports


def cmd_build_spacy(args) -> int:
    """Build the spaCy pipeline folder Rasa loads (skipped if present unless --force)."""
    from assistant.nlp import build_to_disk

    out = Path(args.out)
    if (out / "meta.json").exists() and not args.force:
        print(f"spaCy pipeline already built at {out}")
        return 0
    build_to_disk(out)
    print(f"spaCy pipeline built at {out}")
    return 0


def cmd_nlu(args) -> int:
    """Generate nlu_data/faq.yml from content/faqs.yml (``--check``: fail if out of date)."""
    from assistant.content import load_faq_file, render_nlu

    text = render_nlu(load_faq_file(get_settings().content_dir / "faqs.yml"))
    current = NLU_FILE.read_text(encoding="utf-8") if NLU_FILE.exists() else ""
    if args.check:
        if current != text:
            print("nlu_data/faq.yml is out of date: run `make nlu`", file=sys.stderr)
            return 1
        print("nlu_data/faq.yml is up to date")
        return 0
    if current != text:
        NLU_FILE.write_text(text, encoding="utf-8")
        print("wrote nlu_data/faq.yml")
    return 0


def cmd_db_upgrade(args) -> int:
    """Apply database migrations."""
    from assistant.migrations import upgrade

    upgrade(get_settings().database_url)
    print("database is at the latest schema")
    return 0


def cmd_content_load(args) -> int:
    """Load content/ (FAQs, reflection sets) into the database (existing FAQs kept unless --overwrite)."""
    from assistant.content import ContentError, load_faq_file, seed_faqs
    from assistant.db import session_scope
    from assistant.seed import seed_content

    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            if args.file:
                counts = seed_faqs(load_faq_file(Path(args.file)), session=session, overwrite=args.overwrite)
            else:
                counts = seed_content(settings.content_dir, session=session, overwrite=args.overwrite)
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 1
    print("Content: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def cmd_content_export(args) -> int:
    """Export the FAQs in the database to a content file (default: content/faqs.yml)."""
    from assistant.content import dump_yaml, export_faqs
    from assistant.db import session_scope

    settings = get_settings()
    out = Path(args.out) if args.out else settings.content_dir / "faqs.yml"
    with session_scope(settings.database_url) as session:
        data = export_faqs(session=session)
    header = "# FAQ content exported from the database by `python -m assistant content export`.\n"
    out.write_text(header + dump_yaml(data), encoding="utf-8")
    print(f"exported {len(data)} FAQs to {out}")
    return 0


def cmd_users_create(args) -> int:
    """Create an account; the password is read from stdin (--password-stdin) or prompted."""
    from assistant.db import session_scope
    from assistant.users import UserError, create_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            print("passwords do not match", file=sys.stderr)
            return 1
    try:
        with session_scope(get_settings().database_url) as session:
            user = create_user(
                username=args.username, password=password, role=args.role,
                display_name=args.display_name, manager_username=args.manager, session=session,
            )
            print(f"created {user.role} {user.username} (id {user.id})")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


DEMO_USERS = [
    # username, display name, role, manager
    ("mgr.demo", "Demo Manager", "manager", None),
    ("po.demo", "Demo Practitioner", "practitioner", "mgr.demo"),
    ("po2.demo", "Second Demo Practitioner", "practitioner", "mgr.demo"),
    ("team.demo", "Demo Programme Team", "programme", None),
    ("admin.demo", "Demo Administrator", "admin", None),
]


def cmd_demo_users(args) -> int:
    """Dev only: create synthetic demo users (once) and print their credentials."""
    from assistant.db import session_scope
    from assistant.users import create_user, get_user_by_username

    settings = get_settings()
    if not settings.is_dev:
        print("demo users are only created in dev (ASSISTANT_ENV=dev)", file=sys.stderr)
        return 1
    DEMO_CREDENTIALS.parent.mkdir(parents=True, exist_ok=True)
    saved = {}
    if DEMO_CREDENTIALS.exists():
        for line in DEMO_CREDENTIALS.read_text().splitlines():
            if line.count(" ") >= 2:
                role, username, password = line.split(" ", 2)
                saved[username] = password
    lines = []
    with session_scope(settings.database_url) as session:
        for username, name, role, manager in DEMO_USERS:
            password = saved.get(username)
            if get_user_by_username(username, session=session) is None:
                password = secrets.token_urlsafe(9)
                create_user(username=username, password=password, role=role, display_name=name,
                            manager_username=manager, session=session)
            lines.append(f"{role} {username} {password or '(set earlier; see var/demo-users.txt)'}")
    DEMO_CREDENTIALS.write_text("\n".join(lines) + "\n")
    os.chmod(DEMO_CREDENTIALS, 0o600)
    print("Demo users (synthetic, dev only): role username password")
    for line in lines:
        print("  " + line)
    return 0


def cmd_run(args) -> int:
    """Start the action server, Rasa and the web app; print the URL; stop on Ctrl-C."""
    from assistant.stack import Ports, StackError, start_stack, tokens_of

    settings = get_settings()
    ports = Ports(actions=args.actions_port, rasa=args.rasa_port, web=args.port,
                  rasa_instances=settings.rasa_instances)
    print("starting the action server, Rasa (loading the model takes a minute) and the web app...")
    try:
        stack = start_stack(settings.database_url, ports, tokens_of(settings), PROJECT_ROOT / "var" / "logs")
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"\nThe assistant is running: {stack.web_url}\n(logs in var/logs/; Ctrl-C to stop)")
    from assistant.supervisor import supervise

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    next_purge = [0.0]

    def daily_purge() -> None:  # retention: purge at start, then daily
        if time.monotonic() >= next_purge[0]:
            cmd_purge(argparse.Namespace(days=None))
            next_purge[0] = time.monotonic() + 24 * 3600

    status = 0
    try:
        status = supervise(stack, stopping, on_tick=daily_purge)  # restarts a child that dies
    except KeyboardInterrupt:
        pass
    stack.stop_all()
    print("stopped" if status == 0 else "stopped: a process kept failing (see var/logs/)")
    return status


def cmd_purge(args) -> int:
    """Delete reflections (and conversation text) older than the retention period."""
    from assistant.db import session_scope
    from assistant.reflections import purge

    settings = get_settings()
    days = args.days if args.days is not None else settings.retention_days
    if days < 1:
        print("error: --days must be at least 1", file=sys.stderr)
        return 1
    with session_scope(settings.database_url) as session:
        count = purge(days, session=session)
    print(f"purged {count} reflection(s) older than {days} days")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for all commands."""
    parser = argparse.ArgumentParser(prog="python -m assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build-spacy", help=cmd_build_spacy.__doc__)
    p.add_argument("--out", default=str(SPACY_DIR))
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_build_spacy)

    p = sub.add_parser("nlu", help=cmd_nlu.__doc__)
    p.add_argument("--check", action="store_true")
    p.set_defaults(func=cmd_nlu)

    db = sub.add_parser("db", help="database commands").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help=cmd_db_upgrade.__doc__).set_defaults(func=cmd_db_upgrade)

    content = sub.add_parser("content", help="FAQ content").add_subparsers(dest="content_command", required=True)
    p = content.add_parser("load", help=cmd_content_load.__doc__)
    p.add_argument("--file")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_content_load)
    p = content.add_parser("export", help=cmd_content_export.__doc__)
    p.add_argument("--out")
    p.set_defaults(func=cmd_content_export)

    users = sub.add_parser("users", help="accounts").add_subparsers(dest="users_command", required=True)
    p = users.add_parser("create", help=cmd_users_create.__doc__)
    p.add_argument("--username", required=True)
    p.add_argument("--role", required=True, choices=USER_ROLES)
    p.add_argument("--display-name")
    p.add_argument("--manager", help="username of the line manager")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_users_create)
    cli_users.add_commands(users, USER_ROLES)  # list, set-role, set-manager, (de/re)activate, reset-password

    sub.add_parser("demo-users", help=cmd_demo_users.__doc__).set_defaults(func=cmd_demo_users)

    p = sub.add_parser("run", help=cmd_run.__doc__)
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--rasa-port", type=int, default=5005)
    p.add_argument("--actions-port", type=int, default=5055)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("purge", help=cmd_purge.__doc__)
    p.add_argument("--days", type=int, help="retention in days (default ASSISTANT_RETENTION_DAYS)")
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("evaluate", help=cmd_evaluate.__doc__)
    p.add_argument("--model", action="append", required=True)
    p.add_argument("--set", action="append", help="evaluation set file (repeatable; default content/eval_gate.yml)")
    p.add_argument("--faqs", default="database",
                   help="FAQ content for the lexical ranker: 'database' (default) or a content file")
    p.add_argument("--rows", action="store_true", help="include every question's outcome")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("bench", help=cmd_bench.__doc__)
    p.add_argument("--skip-training", action="store_true")
    p.add_argument("--skip-stability", action="store_true",
                   help="skip the seed spread / one-example swing (5 more trainings); also ASSISTANT_BENCH_STABILITY=0")
    p.add_argument("--requests", type=int, default=10, help="messages per user in the latency runs")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("loadtest", help=cmd_loadtest.__doc__)
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the web app")
    p.add_argument("--users-file", default=str(PROJECT_ROOT / "var" / "loadtest-users.txt"),
                   help="'username password' per line (practitioners with a line manager)")
    p.add_argument("--create-users", type=int, metavar="N",
                   help="first create N practitioners and their manager in ASSISTANT_DATABASE_URL "
                        "(dev/test databases only) and write their credentials to --users-file")
    p.add_argument("--prefix", help="username prefix for --create-users (default: load<random>-)")
    p.add_argument("--mode", choices=["closed", "open", "growth"], default="closed")
    p.add_argument("--users", type=int, default=20, help="users (closed: all chatting; open: arrivals spread over)")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--rate", type=float, default=10.0, help="open loop: mean messages per second (Poisson)")
    p.add_argument("--messages", type=int, default=300, help="growth: messages in the one session")
    p.add_argument("--pid", action="append", default=[], metavar="NAME=PID",
                   help="also report CPU per message of this process and its children (repeatable)")
    p.add_argument("--top", nargs="+", metavar="RAW",
                   help="instead: top functions by self/total time of py-spy `record --format raw` files")
    p.add_argument("--top-n", type=int, default=15)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_loadtest)

    p = sub.add_parser("bench-masking", help=cmd_bench_masking.__doc__)
    p.add_argument("--quiet", action="store_true", help="figures only, not every miss and false positive")
    p.set_defaults(func=cmd_bench_masking)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Parse ``argv`` and run the command."""
    args = build_parser().parse_args(argv)
    return args.func(args)
