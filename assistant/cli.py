"""Command-line interface: ``python -m assistant <command>`` (see ``--help``)."""
from __future__ import annotations

import argparse
from typing import List, Optional

from assistant import cli_users
from assistant.cli_bench import cmd_bench, cmd_bench_masking, cmd_evaluate, cmd_loadtest
from assistant.cli_run import cmd_purge, cmd_run
from assistant.cli_setup import (
    SPACY_DIR,
    cmd_build_spacy,
    cmd_content_export,
    cmd_content_load,
    cmd_db_upgrade,
    cmd_demo_users,
    cmd_nlu,
    cmd_users_create,
)
from assistant.config import PROJECT_ROOT

USER_ROLES = ["practitioner", "manager", "programme", "admin"]  # assistant.models.ROLES, without its imports


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
