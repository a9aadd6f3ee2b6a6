"""The load runs over HTTP: closed loop, open loop, growth; the make bench suite."""
from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import aiohttp

from assistant.loadtest.cpu import cpu_per_message, cpu_snapshot, machine_busy
from assistant.loadtest.script import Conversation, Turn, growth_questions
from assistant.loadtest.stats import Sample, _r, percentile, poisson_schedule, summarize, window_median

REQUEST_TIMEOUT_S = 30.0
LOGIN_CONCURRENCY = 4  # argon2: more at once only queues on 2 cores


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
