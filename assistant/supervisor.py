"""Keep the stack running: a child that dies is restarted with backoff (issue 11).

``python -m assistant run`` starts the action server, the Rasa servers and the web app
(:mod:`assistant.stack`) and then watches them. A dead child is logged and restarted after
a delay that doubles with each crash in a row (1 s, 2 s, 4 s ... up to ``max_delay``); a
child that has stayed up for ``stable_after`` seconds starts again from the shortest
delay. If one child crashes ``give_up_after`` times within ``window`` seconds, something
is wrong that restarting won't fix: the supervisor stops everything and exits non-zero,
so a process manager above it (systemd) or a person sees the failure.

While a Rasa server is down its users are served by the others (the web app skips a
server that fails; locks are shared in Redis); while the action server is down, messages
get a clear 503 and nothing is stored (assistant/rasa_server/turns.py).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

logger = logging.getLogger(__name__)


@dataclass
class RestartPolicy:
    """When to restart a crashed child, and when to give up."""

    first_delay: float = 1.0
    max_delay: float = 60.0
    stable_after: float = 300.0
    give_up_after: int = 5
    window: float = 600.0


@dataclass
class _Child:
    started_at: float = 0.0
    crashes: List[float] = field(default_factory=list)  # times of crashes within the window
    in_a_row: int = 0
    restart_at: Optional[float] = None


class Supervisor:
    """Decides restarts for named children; the caller does the starting and stopping.

    Pure apart from the injected clock, so the policy is tested without processes."""

    def __init__(self, names: List[str], policy: RestartPolicy = RestartPolicy(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        now = clock()
        self.children: Dict[str, _Child] = {n: _Child(started_at=now) for n in names}

    def crashed(self, name: str) -> Optional[float]:
        """Record that ``name`` died; returns the delay before restarting it, or None to give up."""
        now = self.clock()
        child = self.children[name]
        if now - child.started_at >= self.policy.stable_after:
            child.in_a_row = 0  # it had been running well: a fresh start
        child.crashes = [t for t in child.crashes if now - t < self.policy.window] + [now]
        if len(child.crashes) >= self.policy.give_up_after:
            return None
        delay = min(self.policy.max_delay, self.policy.first_delay * (2 ** child.in_a_row))
        child.in_a_row += 1
        child.restart_at = now + delay
        return delay

    def due(self) -> List[str]:
        """Children whose restart delay has passed."""
        now = self.clock()
        return [n for n, c in self.children.items() if c.restart_at is not None and c.restart_at <= now]

    def restarted(self, name: str) -> None:
        """Record that ``name`` is running again."""
        child = self.children[name]
        child.started_at = self.clock()
        child.restart_at = None


def supervise(stack, stopping: List[int], on_tick: Callable[[], None] = lambda: None,
              policy: RestartPolicy = RestartPolicy(), poll: float = 1.0) -> int:
    """Watch ``stack`` (an :class:`assistant.stack.Stack`) until ``stopping`` is non-empty;
    restart dead children. Returns the exit status: 0 when stopped, 1 when it gave up."""
    from assistant.stack import StackError

    supervisor = Supervisor(list(stack.procs), policy)
    waiting = set()
    while not stopping:
        on_tick()
        for name, proc in list(stack.procs.items()):
            if name in waiting or proc.poll() is None:
                continue
            delay = supervisor.crashed(name)
            if delay is None:
                logger.error("%s keeps stopping (code %s); giving up: see var/logs/%s.log",
                             name, proc.returncode, name)
                return 1
            logger.warning("%s stopped (code %s); restarting in %.0f s", name, proc.returncode, delay)
            waiting.add(name)
        for name in supervisor.due():
            try:
                stack.start(name)
            except StackError as exc:
                logger.warning("%s did not come back: %s", name, exc)
                delay = supervisor.crashed(name)
                if delay is None:
                    logger.error("%s could not be restarted; giving up", name)
                    return 1
                continue
            supervisor.restarted(name)
            waiting.discard(name)
            logger.warning("%s is running again", name)
        time.sleep(poll)
    return 0
