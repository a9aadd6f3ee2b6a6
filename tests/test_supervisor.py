"""The restart policy of `python -m assistant run`, with a fake clock, and supervise() on
real (tiny) child processes."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

from assistant.supervisor import RestartPolicy, Supervisor, supervise


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_delays_double_then_reset_after_a_stable_run_and_it_gives_up_on_a_crash_loop():
    clock = Clock()
    sup = Supervisor(["rasa", "actions"], RestartPolicy(first_delay=1, max_delay=8, stable_after=300,
                                                         give_up_after=5, window=600), clock)
    delays = []
    for _ in range(4):
        clock.now += 10
        delays.append(sup.crashed("rasa"))
        clock.now += delays[-1]
        assert sup.due() == ["rasa"]
        sup.restarted("rasa")
    assert delays == [1, 2, 4, 8]
    clock.now += 10
    assert sup.crashed("rasa") is None  # 5 crashes in 10 minutes: restarting won't fix it
    # another child is unaffected, and a long-running child starts again from the shortest delay
    clock.now += 1000
    assert sup.crashed("actions") == 1
    sup.restarted("actions")
    clock.now += 400
    assert sup.crashed("actions") == 1


def test_nothing_is_due_before_its_delay():
    clock = Clock()
    sup = Supervisor(["web"], RestartPolicy(first_delay=5), clock)
    sup.crashed("web")
    clock.now += 4
    assert sup.due() == []
    clock.now += 1
    assert sup.due() == ["web"]


class TinyStack:
    """Two sleeping processes standing in for the stack's children."""

    def __init__(self):
        self.procs = {name: self._spawn() for name in ("a", "b")}
        self.starts = []

    @staticmethod
    def _spawn():
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

    def start(self, name):
        self.procs[name] = self._spawn()
        self.starts.append(name)  # after the new process is in place: the test reads both

    def stop_all(self):
        for p in self.procs.values():
            p.kill()
            p.wait()


def test_a_killed_child_is_restarted_and_the_others_keep_running():
    stack = TinyStack()
    stopping = []
    result = []
    thread = threading.Thread(target=lambda: result.append(
        supervise(stack, stopping, policy=RestartPolicy(first_delay=0.2), poll=0.05)))
    thread.start()
    try:
        first_b = stack.procs["b"].pid
        stack.procs["a"].kill()
        deadline = time.monotonic() + 10
        while stack.starts != ["a"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stack.starts == ["a"] and stack.procs["a"].poll() is None
        assert stack.procs["b"].pid == first_b  # untouched
    finally:
        stopping.append(1)
        thread.join(10)
        stack.stop_all()
    assert result == [0]


def test_it_gives_up_with_a_non_zero_status():
    stack = TinyStack()
    stack.procs["a"].kill()

    def start(name):  # comes back dead every time
        stack.starts.append(name)
        stack.procs[name] = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        stack.procs[name].wait()

    stack.start = start
    try:
        status = supervise(stack, [], policy=RestartPolicy(first_delay=0.01, max_delay=0.02, give_up_after=3),
                           poll=0.01)
    finally:
        stack.stop_all()
    assert status == 1 and len(stack.starts) == 2
