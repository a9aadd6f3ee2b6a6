"""``run`` (the action server, Rasa and the web app, supervised) and ``purge`` (retention,
which ``run`` also does daily). Registered by assistant.cli, which holds the parser."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import time

from assistant.config import PROJECT_ROOT, get_settings


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
