"""Generated conversations against the real stack: people who type instead of clicking,
change their minds, ask something else mid-way, press old buttons, send nothing or far
too much. Seeded, so a failure can be replayed (ASSISTANT_CONVERSATION_SEED), and bounded
in count and time (ASSISTANT_CONVERSATIONS, default 300).

Checked after every turn: no 5xx; no prompt or button list twice in one reply; leaving
ends the flow in that turn; an FAQ question mid-flow is answered and the step asked
again; no reflection answer saved that the person didn't give; no answer lost or changed
once the person was told it was taken; no prompt sent before the manager said send.
"""
from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Tuple

import httpx
import pytest
from sqlalchemy import select

from assistant.db import session_scope
from assistant.models import Reflection, ReflectionAnswer, ReflectionPrompt, User
from assistant.users import create_user
from tests.conversation_model import FAQS, Person, Sent, buttons_of, next_message, question_number, step_of
from tests.e2e_stack import TOKEN

pytestmark = pytest.mark.e2e

CONVERSATIONS = int(os.environ.get("ASSISTANT_CONVERSATIONS", "300"))
SEED = int(os.environ.get("ASSISTANT_CONVERSATION_SEED", "2011"))
MAX_TURNS = 8
TIME_LIMIT_S = 900
PASSWORD = "generated conversations"
TEAM = {"gen.alex": "Alex Rowan", "gen.sam.p": "Sam Patel", "gen.sam.j": "Sam Jones", "gen.jo": "Jo Kim",
        "gen.robin": "Robin Lee", "gen.kit": "Kit Moss"}
# Seven people at once: each conversation's history stays shorter (Rasa replays it every
# turn), and users spread over both Rasa servers.
PEOPLE = [("gen.mgr", "manager", None), ("gen.alex", "practitioner", "gen.mgr"),
          ("gen.sam.p", "practitioner", "gen.mgr"), ("gen.jo", "practitioner", "gen.mgr"),
          ("gen.robin", "practitioner", "gen.mgr"), ("gen.kit", "practitioner", "gen.mgr"),
          ("gen.solo", "practitioner", None)]


def _setup_people(url: str) -> Dict[str, int]:
    ids = {}
    with session_scope(url) as s:
        for username, role, manager in PEOPLE + [("gen.sam.j", "practitioner", "gen.mgr")]:
            user = create_user(username=username, password=PASSWORD, role=role, manager_username=manager,
                               display_name=TEAM.get(username), session=s)
            ids[username] = user.id
    return ids


def _answers(url: str, uid: int) -> Dict[Tuple[int, str], object]:
    with session_scope(url) as s:
        rows = s.execute(select(ReflectionAnswer.reflection_id, ReflectionAnswer.qid, ReflectionAnswer.answer,
                                ReflectionAnswer.skipped).join(Reflection).where(Reflection.author_id == uid))
        return {(r, q): (None if skipped else a) for r, q, a, skipped in rows}


def _prompts(url: str, uid: int) -> int:
    with session_scope(url) as s:
        return len(s.scalars(select(ReflectionPrompt.id).where(ReflectionPrompt.manager_id == uid)).all())


def _active_loop(stack, uid: int) -> str:
    body = httpx.get(f"{stack.rasa_url}/conversations/{uid}/tracker", params={"token": TOKEN}, timeout=30).json()
    return (body.get("active_loop") or {}).get("name") or ""


class Failure(AssertionError):
    """A check failed; the message names the seed, the person and the turn."""


def _send(client: httpx.Client, sent: Sent) -> httpx.Response:
    body = {"payload": sent.payload} if sent.payload else {"message": sent.text}
    return client.post("/api/chat", json=body)


def _check_turn(stack, person: Person, uid: int, sent: Sent, resp: httpx.Response, before: dict,
                prompts_before: int, previous: List[Dict], where: str) -> List[Dict]:
    if resp.status_code >= 500:
        raise Failure(f"{where}: HTTP {resp.status_code} for {sent}")
    if resp.status_code != 200:
        if sent.kind != "odd":
            raise Failure(f"{where}: HTTP {resp.status_code} for {sent}: {resp.text[:200]}")
        return []
    messages = [m for m in resp.json()["messages"] if m.get("type") != "notice"]
    texts = [m.get("text") for m in messages if m.get("text")]
    if len(texts) != len(set(texts)):
        raise Failure(f"{where}: the same prompt twice in one reply: {texts}")
    lists = [tuple(b["payload"] for b in m["buttons"]) for m in messages if m.get("buttons")]
    if len(lists) != len(set(lists)):
        raise Failure(f"{where}: the same buttons twice in one reply: {lists}")
    after = _answers(stack.database_url, uid)
    for key, value in before.items():
        if key not in after or after[key] != value:
            raise Failure(f"{where}: a saved answer was lost or changed: {key} {value!r} -> {after.get(key)!r}")
    new = {k: v for k, v in after.items() if k not in before}
    if len(new) > 1:
        raise Failure(f"{where}: {len(new)} answers saved from one message: {new}")
    for value in new.values():
        given = sent.kind in ("answer", "reflection", "odd") and value == (sent.text or "").strip()
        skipped = sent.kind == "skip" and value is None
        if not (given or skipped):
            raise Failure(f"{where}: saved {value!r}, which the person did not give as an answer ({sent})")
    step = step_of(messages)
    sorry = any(w in " ".join(texts) for w in ("didn't catch", "couldn't use that", "still can't tell", "still couldn't"))
    if sorry and (sent.step != step or sent.kind == "button"):  # a new step, or a button it offered itself
        raise Failure(f"{where}: 'didn't catch that' for a reply it could use ({sent}): {texts}")
    if sent.kind == "leave" and sent.step != "none":
        if step != "none" or _active_loop(stack, uid):
            raise Failure(f"{where}: {sent.text!r} did not leave the flow: {texts}")
    if sent.kind == "faq":
        keys = [m.get("faq_key") for m in messages if m.get("type") == "faq_answer"]
        if keys != [FAQS[sent.text]]:
            raise Failure(f"{where}: {sent.text!r} was not answered ({keys}): {texts}")
        if sent.step != "none" and step != sent.step:
            raise Failure(f"{where}: after the FAQ answer the {sent.step} step was not asked again: {texts}")
    asked = question_number(messages)
    moved_on = sent.step == "question" and (
        (asked is not None and asked != question_number(previous)) or "summary of your reflection" in " ".join(texts))
    if moved_on and not new:  # the next question (or the summary) tells the person it was taken
        raise Failure(f"{where}: the reply moved on but nothing was saved: {texts}")
    if _prompts(stack.database_url, uid) != prompts_before and not any("Sent:" in t for t in texts):
        raise Failure(f"{where}: prompts were written without a 'Sent' reply: {texts}")
    return messages


def _run_person(stack, person: Person, uid: int, conversations: int, seed: int, deadline: float) -> Dict[str, int]:
    rng = random.Random(seed)
    stats = {"conversations": 0, "turns": 0}
    messages: List[Dict] = []
    with httpx.Client(base_url=stack.web_url, timeout=60) as client:
        assert client.post("/api/login", json={"username": person.username, "password": PASSWORD}).status_code == 200
        for c in range(conversations):
            if time.monotonic() > deadline:
                break
            for turn in range(rng.randint(2, MAX_TURNS)):
                step, buttons = step_of(messages), buttons_of(messages)
                sent = next_message(rng, person, step, buttons)
                before, prompts_before = _answers(stack.database_url, uid), _prompts(stack.database_url, uid)
                resp = _send(client, sent)
                where = f"seed {seed}, {person.username}, conversation {c}, turn {turn}"
                replied = _check_turn(stack, person, uid, sent, resp, before, prompts_before, messages, where)
                if resp.status_code == 200:
                    messages = replied
                    person.seen_buttons = list(dict.fromkeys(person.seen_buttons + buttons_of(replied)))[-30:]
                stats["turns"] += 1
            stats["conversations"] += 1
    return stats


def test_generated_conversations_never_trap_lose_or_invent_anything(sqlite_stack):
    ids = _setup_people(sqlite_stack.database_url)
    people = [Person(u, role, list(TEAM.values()) if role == "manager" else []) for u, role, _ in PEOPLE]
    per_person = -(-CONVERSATIONS // len(people))
    deadline = time.monotonic() + TIME_LIMIT_S
    with ThreadPoolExecutor(len(people)) as pool:
        results = list(pool.map(lambda ip: _run_person(sqlite_stack, ip[1], ids[ip[1].username], per_person,
                                                       SEED + ip[0], deadline), enumerate(people)))
    total = sum(r["conversations"] for r in results)
    turns = sum(r["turns"] for r in results)
    print(f"\n{total} generated conversations, {turns} turns (seed {SEED})")
    assert total >= CONVERSATIONS, f"only {total} conversations ran within {TIME_LIMIT_S} s"
    with session_scope(sqlite_stack.database_url) as s:  # the people we made are all still there
        assert len(s.scalars(select(User.id).where(User.username.like("gen.%"))).all()) == len(PEOPLE) + 1
