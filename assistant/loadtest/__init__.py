"""Load the running assistant the way its users do, through the web app's HTTP API.

Each simulated practitioner logs in once (``/api/login``; argon2 makes that slow, so it
happens before any timed window) and then holds scripted, realistic conversations
(``/api/chat``): a greeting, FAQ questions from the dev set (pressing a "Did you mean"
button sometimes), a reflection started by typing or by button, a question set chosen by
button, every question answered (sometimes with an FAQ asked mid-way), the share question
answered, thanks. Each reply is read to decide the next message, so the conversation
follows the assistant wherever it goes; a payload is only ever one the page could send
(:func:`assistant.web.render.allowed_payload`).

Runs:

* :func:`closed_loop`: N users, each sending its next message as soon as the last reply
  arrives, for a fixed time: throughput (msg/s) and latency p50/p95/p99.
* :func:`open_loop`: messages arrive at a fixed mean rate (Poisson), each given to an idle
  user; latency counts from the *scheduled* send time, so queueing anywhere (including a
  wait for an idle user) shows instead of being hidden by the client slowing down
  (coordinated omission).
* :func:`growth`: one user, M messages in one session: latency of message 1, 100, 300...
  (median of a window of ten consecutive messages, the same ten questions each time).

Each run can measure CPU per message for each process of the stack (utime + stime of
the process and its descendants, from ``/proc/<pid>/stat``, before and after the window).
Every non-200 reply and every failed request is counted by kind, never dropped.

Used by ``make bench`` (:mod:`assistant.bench`) and alone against a running stack:
``python -m assistant loadtest --help``.
"""
from __future__ import annotations

from assistant.loadtest.cpu import (
    CLK_TCK, ProcStat, cpu_per_message, cpu_snapshot, machine_busy, parse_proc_stat, read_credentials, top_functions,
    tree_ticks,
)
from assistant.loadtest.report import rows
from assistant.loadtest.runs import (
    LoadSettings, User, closed_loop, create_users, growth, open_loop, run_suite,
)
from assistant.loadtest.script import Conversation, Turn, buttons_of, growth_questions, step_of
from assistant.loadtest.stats import Sample, percentile, poisson_schedule, summarize, window_median

__all__ = [
    "CLK_TCK", "Conversation", "LoadSettings", "ProcStat", "Sample", "Turn", "User", "buttons_of", "closed_loop",
    "cpu_per_message", "cpu_snapshot", "create_users", "growth", "growth_questions", "machine_busy", "open_loop",
    "parse_proc_stat", "percentile", "poisson_schedule", "read_credentials", "rows", "run_suite", "step_of",
    "summarize", "top_functions", "tree_ticks", "window_median",
]
