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

import asyncio
import json
import math
import os
import random
import re
import secrets
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import aiohttp

from assistant.web.render import allowed_payload, payload_key

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
REQUEST_TIMEOUT_S = 30.0
LOGIN_CONCURRENCY = 4  # argon2: more at once only queues on 2 cores

# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], pct: float) -> Optional[float]:
    """Nearest-rank percentile: the smallest value with at least ``pct`` % of the values at
    or below it (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(round(pct / 100 * len(ordered), 9))  # round: 0.95 * 100 is 95.00000000000001
    return ordered[max(0, min(len(ordered), rank) - 1)]


@dataclass
class Sample:
    """One message: when it was (to be) sent, relative to the run's start, and its outcome."""

    start: float  # seconds from the run's start: actual send (closed loop) or scheduled (open loop)
    latency_ms: float
    status: int  # HTTP status; 0 if there was no response
    kind: str = "message"
    error: Optional[str] = None  # e.g. "http_503", "TimeoutError"

    @property
    def end(self) -> float:
        """When the reply arrived (seconds from the run's start)."""
        return self.start + self.latency_ms / 1000

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


def summarize(samples: List[Sample], elapsed_s: float, bucket_s: float = 10.0) -> dict:
    """msg/s, latency percentiles (all messages, errors included: a user waited for them too),
    errors by kind, and the answered rate per ``bucket_s`` of the run (by reply time)."""
    lat = [s.latency_ms for s in samples]
    ok = [s for s in samples if s.ok]
    errors = Counter(s.error or f"http_{s.status}" for s in samples if not s.ok)
    # whole buckets; replies after the last whole one (a closed run's drain) count in it
    n_buckets = max(1, int(round(elapsed_s, 6) // bucket_s))
    buckets: Dict[int, int] = Counter(min(int(s.end // bucket_s), n_buckets - 1) for s in ok)
    spans = [bucket_s] * (n_buckets - 1) + [max(elapsed_s - (n_buckets - 1) * bucket_s, 1e-9)]
    return {
        "n": len(samples), "ok": len(ok), "errors": sum(errors.values()), "errors_by_kind": dict(errors),
        "elapsed_s": round(elapsed_s, 2),
        "msg_per_s": round(len(ok) / elapsed_s, 2) if elapsed_s > 0 else None,
        "p50_ms": _r(percentile(lat, 50)), "p95_ms": _r(percentile(lat, 95)), "p99_ms": _r(percentile(lat, 99)),
        "max_ms": _r(max(lat) if lat else None), "mean_ms": _r(statistics.fmean(lat) if lat else None),
        "msg_per_s_by_%ds" % bucket_s: [round(buckets.get(i, 0) / spans[i], 1) for i in range(n_buckets)],
        "by_kind": {k: {"n": len(v), "p50_ms": _r(percentile(v, 50)), "p95_ms": _r(percentile(v, 95))}
                    for k, v in sorted(_by_kind(samples).items())},
    }


def _by_kind(samples: Iterable[Sample]) -> Dict[str, List[float]]:
    out: Dict[str, List[float]] = {}
    for s in samples:
        out.setdefault(s.kind, []).append(s.latency_ms)
    return out


def _r(x: Optional[float]) -> Optional[float]:
    return None if x is None else round(x, 1)


def window_median(latencies: Sequence[float], k: int, width: int = 10) -> Optional[float]:
    """Median latency of ``width`` consecutive messages around message ``k`` (1-based),
    shifted to stay inside the run: message 1 is messages 1-10, the last is the last ten."""
    if not latencies:
        return None
    n = len(latencies)
    k = max(1, min(k, n))
    lo = max(0, min(k - 1 - width // 2, n - width))
    return statistics.median(latencies[lo:lo + width])


# --------------------------------------------------------------------------- open-loop schedule


def poisson_schedule(rate: float, duration_s: float, rng: random.Random) -> List[float]:
    """Send times (seconds from the start, increasing, all < ``duration_s``) of a Poisson
    arrival process of ``rate`` messages per second."""
    if rate <= 0 or duration_s <= 0:
        return []
    out, t = [], 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= duration_s:
            return out
        out.append(t)


# --------------------------------------------------------------------------- CPU from /proc


@dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    ticks: int  # utime + stime + cutime + cstime (cutime/cstime: children already waited for)


def parse_proc_stat(text: str) -> ProcStat:
    """The fields we need from one ``/proc/<pid>/stat`` line. The command name (field 2) is
    in parentheses and may itself hold spaces and parentheses, so split after the last ')'."""
    pid = int(text.split(" ", 1)[0])
    rest = text[text.rindex(")") + 2:].split()
    # rest[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14-17
    ppid = int(rest[1])
    utime, stime, cutime, cstime = (int(x) for x in rest[11:15])
    return ProcStat(pid=pid, ppid=ppid, ticks=utime + stime + cutime + cstime)


def _all_stats(proc: Path = Path("/proc")) -> Dict[int, ProcStat]:
    out = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                st = parse_proc_stat((entry / "stat").read_text())
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            out[st.pid] = st
    return out


def tree_ticks(root: int, stats: Dict[int, ProcStat]) -> int:
    """CPU ticks of ``root`` and every living descendant (each including its reaped children).
    A child that exits between two readings moves into its parent's cutime/cstime, so the
    difference of two readings is the tree's CPU in between."""
    children: Dict[int, List[int]] = {}
    for st in stats.values():
        children.setdefault(st.ppid, []).append(st.pid)
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        total += stats[pid].ticks
        todo.extend(children.get(pid, []))
    return total


def cpu_snapshot(pids: Dict[str, int], proc: Path = Path("/proc")) -> Dict[str, int]:
    """Ticks of each named process tree, and of this process (``loadgen``)."""
    stats = _all_stats(proc)
    out = {name: tree_ticks(pid, stats) for name, pid in pids.items()}
    own = os.times()
    out["loadgen"] = int(round((own.user + own.system) * CLK_TCK))
    return out


def cpu_per_message(before: Dict[str, int], after: Dict[str, int], messages: int, elapsed_s: float,
                    clk_tck: int = CLK_TCK) -> dict:
    """CPU seconds, CPU-ms per message and cores busy, for each process and the whole stack
    (every process but the load generator itself)."""
    out = {}
    stack_s = 0.0
    for name in after:
        if name not in before:
            continue
        cpu_s = max(0, after[name] - before[name]) / clk_tck
        if name != "loadgen":
            stack_s += cpu_s
        out[name] = _cpu_row(cpu_s, messages, elapsed_s)
    out["stack"] = _cpu_row(stack_s, messages, elapsed_s)
    return out


def _cpu_row(cpu_s: float, messages: int, elapsed_s: float) -> dict:
    return {"cpu_s": round(cpu_s, 2),
            "ms_per_msg": round(cpu_s * 1000 / messages, 2) if messages else None,
            "cores": round(cpu_s / elapsed_s, 2) if elapsed_s > 0 else None}


def machine_busy() -> Tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat: how busy the whole machine was
    (other users of the machine included) between two readings."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


# --------------------------------------------------------------------------- conversations

GREETINGS = ["hi", "hello", "good morning", "hi there"]
THANKS = ["thanks", "thank you", "cheers, that's helpful", "great, thanks"]
CHITCHAT = ["are you a bot?", "what can you do?", "help"]
START_TYPED = ["I'd like to reflect on a session", "can I reflect on this morning's supervision?",
               "just finished a session with a new case, can I reflect?", "start a reflection",
               "let's do a reflection"]
# set keys, as the page's buttons carry them, with how often each is chosen
SET_WEIGHTS = {"quick_check": 4, "what_so_what_now_what": 3, "gibbs": 2, "seed_engagement": 1}
ANSWERS = [
    "He arrived on time and we talked about his housing for most of the session",
    "It went better than last time, she was more open about the pressure at home",
    "We reviewed the licence conditions and agreed two goals for next month",
    "I felt rushed and I think he noticed, I should have slowed down",
    "She said the unpaid work placement is going well and she wants more hours",
    "We set an agenda together at the start and it helped",
    "Agreed a plan for the next appointment",
    "I'll check in about work first next time",
    "More listening and fewer questions",
    "He was worried about his benefits being stopped, so we spent time on that before anything else",
]
QUESTION_RE = re.compile(r"\*\*Question (\d+) of (\d+)\.\*\*")
MAX_REFLECTION_TURNS = 20  # a reflection that has not ended by then is abandoned by the script


@dataclass
class Turn:
    """One message a simulated user sends: typed text or a button's payload, and its kind."""

    kind: str
    text: Optional[str] = None
    payload: Optional[str] = None

    def body(self) -> dict:
        return {"payload": self.payload} if self.payload is not None else {"message": self.text or ""}


def step_of(messages: Optional[List[dict]]) -> str:
    """Where a reply leaves the user: ``set`` (choose a question set), ``question``,
    ``share``, ``confirm`` (a draft to confirm) or ``none``."""
    if not messages:
        return "none"
    text = " ".join(m.get("text") or "" for m in messages)
    if QUESTION_RE.search(text):
        return "question"
    if "Which questions would you like" in text or "which set you'd like" in text:
        return "set"
    if "share this reflection" in text or "Share it with" in text:
        return "share"
    if "Shall I send it?" in text or "What would you like to change?" in text:
        return "confirm"
    return "none"


def buttons_of(messages: Optional[List[dict]]) -> List[str]:
    """Payloads of the reply's buttons that the page may send (others are never pressed)."""
    return [b.get("payload") for m in messages or [] for b in m.get("buttons") or []
            if isinstance(b, dict) and allowed_payload(b.get("payload"))]


def set_payload(key: str) -> str:
    return '/inform{"reflection_set": "%s"}' % key


class Conversation:
    """One simulated practitioner's side of the chat, for as long as the run lasts.

    A session is planned (greeting, FAQs, a reflection, more FAQs, thanks) and played out
    against the replies; when it ends the next one is planned. :meth:`next_turn` takes the
    last reply (None before the first message) and returns the next message."""

    def __init__(self, rng: random.Random, faq_questions: Sequence[str], reflect_share: float = 0.5) -> None:
        if not faq_questions:
            raise ValueError("need FAQ questions")
        self.rng = rng
        self.faqs = list(faq_questions)
        self.reflect_share = reflect_share
        self.goals: List[Tuple[str, Optional[str]]] = []
        self.reflecting = False
        self.reflect_turns = 0
        self.set_key: Optional[str] = None
        self.aside_pending = False
        self.share: str = "/affirm"
        self.last: Optional[Turn] = None
        self.sessions = 0

    def plan(self) -> List[Tuple[str, Optional[str]]]:
        """The goals of one session: (kind, text or None)."""
        rng = self.rng
        goals: List[Tuple[str, Optional[str]]] = []
        if rng.random() < 0.5:
            goals.append(("greeting", rng.choice(GREETINGS)))
        goals += [("faq", rng.choice(self.faqs)) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.15:
            goals.append(("chitchat", rng.choice(CHITCHAT)))
        if rng.random() < 0.8:
            goals.append(("reflect", None))
        goals += [("faq", rng.choice(self.faqs)) for _ in range(rng.randint(0, 2))]
        if rng.random() < 0.6:
            goals.append(("thanks", rng.choice(THANKS)))
        self.sessions += 1
        return goals

    def next_turn(self, reply: Optional[List[dict]]) -> Turn:
        turn = self._next(reply)
        assert turn.payload is None or allowed_payload(turn.payload), turn
        self.last = turn
        return turn

    def _next(self, reply: Optional[List[dict]]) -> Turn:
        rng = self.rng
        step = step_of(reply)
        buttons = buttons_of(reply)
        if step in ("set", "question", "share") and not self.reflecting:
            self._begin_reflection()  # the assistant is mid-reflection (e.g. resumed): play along
        if self.reflecting:
            self.reflect_turns += 1
            if step == "none" or self.reflect_turns > MAX_REFLECTION_TURNS:
                self.reflecting = False
            else:
                return self._reflection_turn(step, buttons)
        # "Did you mean...?": sometimes press the first suggestion
        if self.last is not None and self.last.kind == "faq":
            suggested = [b for b in buttons if payload_key(b)]
            if suggested and rng.random() < 0.5:
                return Turn("faq_button", payload=suggested[0])
        if not self.goals:
            self.goals = self.plan()
        kind, text = self.goals.pop(0)
        if kind != "reflect":
            return Turn(kind, text=text)
        self._begin_reflection()
        roll = rng.random()
        if roll < 0.5:
            return Turn("start_typed", text=rng.choice(START_TYPED))
        if roll < 0.75:
            return Turn("start_button", payload="/start_reflection")
        return Turn("start_button", payload='/start_reflection{"reflection_set": "%s"}' % self.set_key)

    def _begin_reflection(self) -> None:
        rng = self.rng
        self.reflecting = True
        self.reflect_turns = 0
        self.set_key = rng.choices(list(SET_WEIGHTS), weights=list(SET_WEIGHTS.values()))[0]
        self.aside_pending = rng.random() < 0.3
        self.share = "/affirm" if rng.random() < self.reflect_share else "/deny"

    def _reflection_turn(self, step: str, buttons: List[str]) -> Turn:
        rng = self.rng
        if step == "set":
            wanted = set_payload(self.set_key or "")
            choices = [b for b in buttons if b.startswith("/inform")]
            if wanted in buttons:
                return Turn("set_button", payload=wanted)
            if choices:
                return Turn("set_button", payload=choices[0])
            return Turn("set_typed", text="the usual")
        if step == "question":
            if self.aside_pending and rng.random() < 0.4:
                self.aside_pending = False
                return Turn("faq_aside", text=rng.choice(self.faqs))
            return Turn("answer", text=rng.choice(ANSWERS))
        if step == "share":
            if self.share in buttons:
                return Turn("share_button", payload=self.share)
            return Turn("share_typed", text="yes" if self.share == "/affirm" else "no, keep it private")
        # a draft to confirm (not a practitioner's step): decline it
        if "/deny" in buttons:
            return Turn("confirm_button", payload="/deny")
        return Turn("confirm_typed", text="cancel")


def growth_questions(dev: Sequence[Tuple[str, str]], n: int = 10) -> List[str]:
    """``n`` in-scope dev-set questions, one per FAQ key (the growth run's repeating cycle)."""
    seen, out = set(), []
    for text, key in dev:
        if key != "out_of_scope" and key not in seen:
            seen.add(key)
            out.append(text)
        if len(out) == n:
            break
    return out


# --------------------------------------------------------------------------- HTTP


@dataclass
class User:
    """A logged-in simulated user: its session cookie and its side of the conversation."""

    username: str
    password: str
    conversation: Optional[Conversation] = None
    cookies: Dict[str, str] = field(default_factory=dict)
    reply: Optional[List[dict]] = None

    @property
    def headers(self) -> Dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}


def _session(timeout: float = REQUEST_TIMEOUT_S) -> aiohttp.ClientSession:
    # no client-side connection limit (it would queue requests out of sight of the latency);
    # cookies are sent by hand, per user, so one pool serves every user
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                 timeout=aiohttp.ClientTimeout(total=timeout),
                                 cookie_jar=aiohttp.DummyCookieJar())


async def login(http: aiohttp.ClientSession, base_url: str, user: User) -> None:
    """Log ``user`` in (raises on failure: a run with users who can't log in measures nothing)."""
    async with http.post(f"{base_url}/api/login", json={"username": user.username, "password": user.password}) as r:
        if r.status != 200:
            raise RuntimeError(f"login of {user.username} failed: HTTP {r.status} {await r.text()}")
        user.cookies = {k: m.value for k, m in r.cookies.items()}


async def login_all(http: aiohttp.ClientSession, base_url: str, users: List[User]) -> None:
    sem = asyncio.Semaphore(LOGIN_CONCURRENCY)

    async def one(u: User) -> None:
        async with sem:
            await login(http, base_url, u)

    await asyncio.gather(*(one(u) for u in users))


async def send(http: aiohttp.ClientSession, base_url: str, user: User, turn: Turn) -> Tuple[int, Optional[str]]:
    """Send one message, with a fresh client message id as the page sends; keep the reply on
    ``user``. Returns (HTTP status or 0, error kind or None)."""
    body = {**turn.body(), "client_message_id": secrets.token_urlsafe(12)}
    try:
        async with http.post(f"{base_url}/api/chat", json=body, headers=user.headers) as r:
            body = await r.read()
            if r.status != 200:
                user.reply = None
                return r.status, f"http_{r.status}"
            user.reply = json.loads(body).get("messages") or []
            return 200, None
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        user.reply = None
        return 0, type(exc).__name__


def _users(credentials: Sequence[Tuple[str, str]], faqs: Sequence[str], seed: int) -> List[User]:
    return [User(u, p, Conversation(random.Random(f"{seed}:{u}"), faqs)) for u, p in credentials]


class _Meter:
    """CPU of the stack's processes and of the whole machine over a window."""

    def __init__(self, pids: Optional[Dict[str, int]]) -> None:
        self.pids = pids or {}

    def start(self) -> None:
        self.before, self.machine_before = cpu_snapshot(self.pids), machine_busy()

    def stop(self, messages: int, elapsed_s: float) -> dict:
        after, (busy1, total1) = cpu_snapshot(self.pids), machine_busy()
        busy0, total0 = self.machine_before
        out = {"cpu": cpu_per_message(self.before, after, messages, elapsed_s)}
        if total1 > total0:
            out["machine_busy"] = round((busy1 - busy0) / (total1 - total0), 2)  # 0-1, every CPU, everyone's
        out["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
        return out


async def closed_loop(base_url: str, credentials: Sequence[Tuple[str, str]], duration_s: float,
                      faq_questions: Sequence[str], pids: Optional[Dict[str, int]] = None, seed: int = 11,
                      on_start: Optional[Callable[[], None]] = None) -> dict:
    """Every user chats continuously (next message as soon as the reply arrives) for
    ``duration_s``; messages in flight at the end are waited for and counted. ``on_start``
    is called when every user has logged in and the timed window begins."""
    users = _users(credentials, faq_questions, seed)
    samples: List[Sample] = []
    meter = _Meter(pids)
    async with _session() as http:
        await login_all(http, base_url, users)
        if on_start:
            on_start()
        meter.start()
        t0 = time.perf_counter()
        deadline = t0 + duration_s

        async def run(user: User) -> None:
            while time.perf_counter() < deadline:
                turn = user.conversation.next_turn(user.reply)
                start = time.perf_counter()
                status, error = await send(http, base_url, user, turn)
                samples.append(Sample(start - t0, (time.perf_counter() - start) * 1000, status, turn.kind, error))

        await asyncio.gather(*(run(u) for u in users))
        elapsed = time.perf_counter() - t0
    out = {"mode": "closed", "users": len(users), "duration_s": duration_s, **summarize(samples, elapsed)}
    out.update(meter.stop(len(samples), elapsed) if pids is not None else {})
    return out


async def open_loop(base_url: str, credentials: Sequence[Tuple[str, str]], rate: float, duration_s: float,
                    faq_questions: Sequence[str], pids: Optional[Dict[str, int]] = None, seed: int = 13,
                    on_start: Optional[Callable[[], None]] = None) -> dict:
    """Messages at Poisson arrival times (mean ``rate``/s for ``duration_s``), each sent by
    an idle user (a user never has two messages in flight; if none is idle the message waits,
    and that wait counts). Latency is from the scheduled time to the reply."""
    users = _users(credentials, faq_questions, seed)
    schedule = poisson_schedule(rate, duration_s, random.Random(seed))
    samples: List[Sample] = []
    late = []  # how late each message left (ms): the load generator's own lag, and waits for a user
    meter = _Meter(pids)
    async with _session() as http:
        await login_all(http, base_url, users)
        idle: asyncio.Queue = asyncio.Queue()
        for u in users:
            idle.put_nowait(u)
        if on_start:
            on_start()
        meter.start()
        t0 = time.perf_counter()

        async def fire(user: User, offset: float) -> None:
            turn = user.conversation.next_turn(user.reply)
            late.append((time.perf_counter() - t0 - offset) * 1000)
            status, error = await send(http, base_url, user, turn)
            samples.append(Sample(offset, (time.perf_counter() - t0 - offset) * 1000, status, turn.kind, error))
            idle.put_nowait(user)

        tasks = []
        for offset in schedule:
            delay = t0 + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            user = await idle.get()
            tasks.append(asyncio.create_task(fire(user, offset)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
    out = {"mode": "open", "users": len(users), "rate": rate, "duration_s": duration_s,
           "scheduled": len(schedule), **summarize(samples, max(duration_s, 1e-9)),
           "send_lag_ms": {"p50": _r(percentile(late, 50)), "p99": _r(percentile(late, 99)),
                           "max": _r(max(late) if late else None)},
           "drain_s": round(elapsed - duration_s, 2)}
    out.update(meter.stop(len(samples), elapsed) if pids is not None else {})
    return out


async def growth(base_url: str, credentials: Tuple[str, str], messages: int, questions: Sequence[str],
                 marks: Sequence[int] = (1, 100, 300), pids: Optional[Dict[str, int]] = None,
                 on_start: Optional[Callable[[], None]] = None) -> dict:
    """One user sends ``messages`` FAQ questions (``questions`` in a cycle) in one session.
    Reports the median latency of ten consecutive messages around each of ``marks`` (those
    before the last message, and the last) and the ratio of the last to the first."""
    user = User(*credentials)
    samples: List[Sample] = []
    meter = _Meter(pids)
    async with _session() as http:
        await login(http, base_url, user)
        if on_start:
            on_start()
        meter.start()
        t0 = time.perf_counter()
        for i in range(messages):
            turn = Turn("faq", text=questions[i % len(questions)])
            start = time.perf_counter()
            status, error = await send(http, base_url, user, turn)
            samples.append(Sample(start - t0, (time.perf_counter() - start) * 1000, status, turn.kind, error))
        elapsed = time.perf_counter() - t0
    lat = [s.latency_ms for s in samples]
    marks = sorted({m for m in marks if m < messages} | {messages})
    at = {str(m): _r(window_median(lat, m, width=len(questions))) for m in marks}
    first, last = at[str(marks[0])], at[str(marks[-1])]
    out = {"mode": "growth", "messages": messages, "window": len(questions), "latency_at_ms": at,
           "ratio_last_first": round(last / first, 2) if first and last else None,
           **{k: v for k, v in summarize(samples, elapsed).items() if k != "by_kind"}}
    out.update(meter.stop(len(samples), elapsed) if pids is not None else {})
    return out


# --------------------------------------------------------------------------- profiles


def top_functions(collapsed: str, n: int = 15) -> Dict[str, List[Tuple[str, float]]]:
    """Top ``n`` frames by self and by total share of samples, from py-spy's ``--format raw``
    output (collapsed stacks: ``frame;frame;... count`` per line). A frame counts once per
    stack for "total" even if it recurses."""
    self_c: Counter = Counter()
    total_c: Counter = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        c = int(count)
        frames = [_frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        samples += c
        self_c[frames[-1]] += c
        for f in set(frames):
            total_c[f] += c
    if not samples:
        return {"self": [], "total": [], "samples": 0}
    return {"samples": samples,
            "self": [(f, round(c / samples, 3)) for f, c in self_c.most_common(n)],
            "total": [(f, round(c / samples, 3)) for f, c in total_c.most_common(n)]}


def _frame_name(frame: str) -> str:
    """``function (path/to/module.py:123)`` -> ``function (to/module.py)``: frames of one
    function at different lines merge; the thread/process prefix py-spy may add is dropped."""
    m = re.match(r"^(.*?) \((.*?)(?::\d+)?\)$", frame.strip())
    if not m:
        return frame.strip()
    func, path = m.groups()
    parts = Path(path).parts
    short = "/".join(parts[-2:]) if "site-packages" not in parts else "/".join(
        parts[parts.index("site-packages") + 1:])
    return f"{func} ({short})"


def read_credentials(path: Path) -> List[Tuple[str, str]]:
    """``username password`` per line (blank lines and # comments skipped)."""
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, password = line.split(None, 1)
            out.append((name, password))
    return out


# --------------------------------------------------------------------------- make bench


@dataclass
class LoadSettings:
    """What ``make bench`` runs (each from the environment, for a quick run)."""

    enabled: bool = True  # ASSISTANT_BENCH_LOAD=0 skips every load run
    sustained_s: float = 60.0  # ASSISTANT_BENCH_SUSTAINED_SECONDS: each closed-loop run
    user_levels: Tuple[int, ...] = (20, 50)  # ASSISTANT_BENCH_LOAD_USERS, e.g. "20,50"
    open_rate: float = 10.0  # ASSISTANT_BENCH_OPEN_RATE: messages per second
    open_s: float = 60.0  # ASSISTANT_BENCH_OPEN_SECONDS
    open_users: int = 50  # ASSISTANT_BENCH_OPEN_USERS: the users the arrivals are spread over
    growth_messages: int = 300  # ASSISTANT_BENCH_GROWTH_MESSAGES (0 skips)

    @classmethod
    def from_env(cls, env: Optional[Dict[str, str]] = None) -> "LoadSettings":
        env = os.environ if env is None else env
        d = cls()
        return cls(
            enabled=env.get("ASSISTANT_BENCH_LOAD", "1").lower() not in ("0", "false", "no"),
            sustained_s=float(env.get("ASSISTANT_BENCH_SUSTAINED_SECONDS", d.sustained_s)),
            user_levels=tuple(int(x) for x in env.get("ASSISTANT_BENCH_LOAD_USERS", "20,50").split(",") if x.strip()),
            open_rate=float(env.get("ASSISTANT_BENCH_OPEN_RATE", d.open_rate)),
            open_s=float(env.get("ASSISTANT_BENCH_OPEN_SECONDS", d.open_s)),
            open_users=int(env.get("ASSISTANT_BENCH_OPEN_USERS", d.open_users)),
            growth_messages=int(env.get("ASSISTANT_BENCH_GROWTH_MESSAGES", d.growth_messages)),
        )

    def users_needed(self) -> int:
        """Fresh users for every run (a run's conversations don't grow the next run's)."""
        return sum(self.user_levels) + (self.open_users if self.open_s > 0 else 0) + (1 if self.growth_messages else 0)


def create_users(n: int, prefix: str, *, session) -> List[Tuple[str, str]]:
    """``n`` practitioners ``<prefix>0``... with random passwords, all managed by
    ``<prefix>mgr`` (so the share question is asked), created in ``session``."""
    from assistant.users import create_user, get_user_by_username

    manager = f"{prefix}mgr"
    if get_user_by_username(manager, session=session) is None:
        create_user(username=manager, password=secrets.token_urlsafe(16), role="manager",
                    display_name="Load Test Manager", session=session)
    out = []
    for i in range(n):
        name, password = f"{prefix}{i}", secrets.token_urlsafe(12)
        create_user(username=name, password=password, role="practitioner", display_name=f"Load User {i}",
                    manager_username=manager, session=session)
        out.append((name, password))
    return out


def run_suite(base_url: str, credentials: Sequence[Tuple[str, str]], pids: Dict[str, int],
              dev: Sequence[Tuple[str, str]], cfg: LoadSettings, log=print) -> dict:
    """The bench's load runs, each with its own users: growth (on a quiet stack), open
    loop, then closed loop at each user level."""
    creds = list(credentials)
    faqs = [t for t, _ in dev]
    out: dict = {"settings": cfg.__dict__.copy(), "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3]}
    if cfg.growth_messages:
        log(f"load: growth, one user, {cfg.growth_messages} messages")
        out["growth"] = asyncio.run(growth(base_url, creds.pop(0), cfg.growth_messages, growth_questions(dev),
                                           pids=pids))
    if cfg.open_s > 0:
        log(f"load: open loop, {cfg.open_rate:g} msg/s for {cfg.open_s:g} s over {cfg.open_users} users")
        users, creds = creds[:cfg.open_users], creds[cfg.open_users:]
        out["open"] = asyncio.run(open_loop(base_url, users, cfg.open_rate, cfg.open_s, faqs, pids=pids))
    out["closed"] = {}
    for n in cfg.user_levels:
        log(f"load: closed loop, {n} users for {cfg.sustained_s:g} s")
        users, creds = creds[:n], creds[n:]
        out["closed"][str(n)] = asyncio.run(closed_loop(base_url, users, cfg.sustained_s, faqs, pids=pids))
    return out


def _fmt(x: Optional[float], spec: str = ".0f") -> str:
    return "-" if x is None else format(x, spec)


def _pcts(r: dict) -> str:
    return f"{_fmt(r['p50_ms'])} / {_fmt(r['p95_ms'])} / {_fmt(r['p99_ms'])}"


def _cpu_rows(label: str, r: dict, target: str = "") -> List[Tuple[str, str, str]]:
    cpu = r.get("cpu") or {}
    if not cpu:
        return []
    per = ", ".join(f"{k} {v['ms_per_msg']:.1f}" for k, v in cpu.items()
                    if k not in ("stack", "loadgen") and v["ms_per_msg"] is not None)
    rows = [(f"{label}: CPU ms/message, whole stack", _fmt(cpu["stack"]["ms_per_msg"], ".1f"), target),
            (f"{label}: CPU ms/message by process", per, "")]
    if "machine_busy" in r:
        rows.append((f"{label}: stack cores busy / machine busy (all users)",
                     f"{cpu['stack']['cores']:.2f} / {r['machine_busy'] * 100:.0f}%", "of 2 cores"))
    return rows


def rows(load: Optional[dict]) -> List[Tuple[str, str, str]]:
    """Table rows (measure, value, target) for :func:`assistant.bench.print_table`."""
    if not load:
        return [("Load runs (sustained, open loop, growth)", "skipped", "")]
    out = [("Load runs: machine load average at start (1/5/15 min)", " ".join(load["loadavg_at_start"]),
            "shared machine if > 0")]
    g = load.get("growth")
    if g:
        at = g["latency_at_ms"]
        out += [(f"Growth, 1 user: latency at message {' / '.join(at)} (ms, median of {g['window']})",
                 " / ".join(_fmt(v) for v in at.values()), ""),
                (f"Growth: message {list(at)[-1]} / message {list(at)[0]}", _fmt(g["ratio_last_first"], ".2f"),
                 "<= 1.3"),
                ("Growth: errors", _errors(g), "0")] + _cpu_rows("Growth", g)
    o = load.get("open")
    if o:
        label = f"Open loop {o['rate']:g} msg/s, {o['duration_s']:g} s, {o['users']} users"
        out += [(f"{label}: p50 / p95 / p99 (ms, n={o['n']})", _pcts(o), "p95 <= 150"),
                (f"{label}: answered msg/s", _fmt(o["msg_per_s"], ".1f"), f"{o['rate']:g}"),
                (f"{label}: errors", _errors(o), "0")] + _cpu_rows("Open loop", o, "<= 25")
    for n, c in (load.get("closed") or {}).items():
        label = f"Sustained {n} users, {c['duration_s']:g} s"
        big = int(n) >= 50
        by = c.get("msg_per_s_by_10s") or []
        out += [(f"{label}: msg/s (first / last 10 s)", f"{_fmt(c['msg_per_s'], '.1f')} ({_fmt(by[0] if by else None, '.0f')}"
                 f" / {_fmt(by[-1] if by else None, '.0f')})", ">= 60" if big else ""),
                (f"{label}: p50 / p95 / p99 (ms, n={c['n']})", _pcts(c), "p95 <= 1000" if big else ""),
                (f"{label}: errors", _errors(c), "0")] + _cpu_rows(f"Sustained {n}", c, "<= 25")
    return out


def _errors(r: dict) -> str:
    kinds = r.get("errors_by_kind") or {}
    return str(r["errors"]) + (" (" + ", ".join(f"{k} {v}" for k, v in kinds.items()) + ")" if kinds else "")
