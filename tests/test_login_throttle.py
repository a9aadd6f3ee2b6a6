"""Login throttling (assistant.login.authenticate) on SQLite and PostgreSQL: counted in the
database under concurrency, per (username, address) and per username, growing and expiring,
never a lock on the owner's own address, and one answer (and one timing) for every failure."""
import datetime as dt
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant import login, users
from assistant.db import session_scope
from assistant.login import ANY_ADDRESS, LOGIN_FAILED, LoginLimits, authenticate, prune_login_throttles
from assistant.models import LoginThrottle, User
from assistant.web.app import create_app

T0 = dt.datetime(2030, 3, 4, 10, 0, 0)
WRONG = "not the password"


def limits_for(settings, **changes):
    """LoginLimits from the test settings with some login_* settings changed."""
    return LoginLimits.from_settings(settings.copy(update={f"login_{k}": v for k, v in changes.items()}))


def attempt(url, username, password, address, limits, now=T0, barrier=None):
    """One login through the domain function in its own session (committed, as the route
    does); returns (user id or None, throttled)."""
    if barrier is not None:
        barrier.wait()
    with session_scope(url) as session:
        outcome = authenticate(username, password, address=address, limits=limits, session=session, now=now)
        return (outcome.user.id if outcome.user else None), outcome.throttled


def in_parallel(n, fn):
    """Run ``fn(barrier, i)`` for i in 0..n-1 on ``n`` threads released together by the
    barrier; their results."""
    barrier = threading.Barrier(n)
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(lambda i: fn(barrier, i), range(n)))


def counter(url, username, address):
    """The (failures, next_allowed_at) of a throttle row, or None."""
    with session_scope(url) as session:
        row = session.get(LoginThrottle, (username, address))
        return None if row is None else (row.failures, row.next_allowed_at)


@pytest.fixture
def real_argon2():
    """Ask for this to keep the real argon2 parameters (see ``quick_argon2``)."""


@pytest.fixture(autouse=True)
def quick_argon2(request, monkeypatch):
    """Cheap argon2 parameters (the CPU is shared), except for tests using ``real_argon2``."""
    if "real_argon2" not in request.fixturenames:
        monkeypatch.setattr(users, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(users, "_DUMMY_HASH", None)  # made again with the parameters in use


@pytest.fixture
def spy_hashes(monkeypatch):
    """The hashes authenticate verifies against, in order."""
    seen = []
    real = users.verify_password

    def spy(password_hash, password):
        seen.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(login, "verify_password", spy)  # where authenticate looks it up
    return seen


def test_parallel_wrong_passwords_are_all_counted(settings, make_user):
    _, name, _ = make_user("alex")
    limits = limits_for(settings, failures_per_address=100, failures_per_account=100)
    results = in_parallel(24, lambda b, _: attempt(settings.database_url, name, WRONG, "203.0.113.9", limits,
                                                   barrier=b))
    assert results == [(None, False)] * 24
    assert counter(settings.database_url, name, "203.0.113.9")[0] == 24
    assert counter(settings.database_url, name, ANY_ADDRESS)[0] == 24


def test_a_parallel_burst_gets_no_more_answers_than_the_limit(settings, make_user, spy_hashes):
    uid, name, password = make_user("alex")
    limits = limits_for(settings, failures_per_address=5, failures_per_account=100)
    results = in_parallel(30, lambda b, _: attempt(settings.database_url, name, WRONG, "203.0.113.9", limits,
                                                barrier=b))
    assert sorted(results, key=str) == [(None, False)] * 5 + [(None, True)] * 25
    assert counter(settings.database_url, name, "203.0.113.9")[0] == 5
    # now the right password from that address is refused without being checked
    spy_hashes.clear()
    assert attempt(settings.database_url, name, password, "203.0.113.9", limits) == (None, True)
    assert spy_hashes == [users.dummy_hash()]


def test_the_owner_from_another_address_gets_in_while_the_attackers_waits(settings, make_user):
    uid, name, password = make_user("alex")
    limits = limits_for(settings, failures_per_address=5, failures_per_account=20)
    url = settings.database_url
    for _ in range(5):
        assert attempt(url, name, WRONG, "198.51.100.66", limits) == (None, False)
    assert attempt(url, name, password, "198.51.100.66", limits) == (None, True)
    assert attempt(url, name, password, "192.0.2.10", limits) == (uid, False)
    # ... and the attacker's address still waits
    assert attempt(url, name, password, "198.51.100.66", limits) == (None, True)


def test_the_wait_grows_with_each_failure_and_is_forgotten(settings, make_user):
    uid, name, password = make_user("alex")
    settings = settings.copy(update={"login_failures_per_address": 3, "login_delay_seconds": 60,
                                     "login_max_delay_minutes": 4, "login_forget_hours": 2})
    limits = LoginLimits.from_settings(settings)
    url, here = settings.database_url, "203.0.113.9"
    for _ in range(3):
        assert attempt(url, name, WRONG, here, limits, now=T0) == (None, False)
    now = T0
    for wait in (60, 120, 240, 240, 240):  # doubling, up to the 4-minute cap
        assert counter(url, name, here)[1] == now + dt.timedelta(seconds=wait)
        # refused attempts while waiting (even the right password) do not add to the wait
        for early in (1, wait // 2, wait - 1):
            assert attempt(url, name, password, here, limits, now=now + dt.timedelta(seconds=early)) == (None, True)
        assert counter(url, name, here)[1] == now + dt.timedelta(seconds=wait)
        now += dt.timedelta(seconds=wait)
        assert attempt(url, name, WRONG, here, limits, now=now) == (None, False)
    # two hours after the last counted failure the run is forgotten: three free tries again
    later = now + dt.timedelta(hours=2, seconds=1)
    for i in range(3):
        assert attempt(url, name, WRONG, here, limits, now=later + dt.timedelta(seconds=i)) == (None, False)
    assert counter(url, name, here)[0] == 3
    assert attempt(url, name, password, here, limits, now=later + dt.timedelta(seconds=10)) == (None, True)
    # once the wait is over, the right password gets in and clears the count
    assert attempt(url, name, password, here, limits, now=later + dt.timedelta(minutes=2)) == (uid, False)
    assert counter(url, name, here)[0] == 0
    assert attempt(url, name, WRONG, here, limits, now=later + dt.timedelta(minutes=2, seconds=1)) == (None, False)


def test_the_account_cap_bounds_guessing_from_many_addresses_but_not_the_owners_usual_one(settings, make_user):
    uid, name, password = make_user("alex")
    limits = limits_for(settings, failures_per_address=5, failures_per_account=10, delay_seconds=60)
    url = settings.database_url
    assert attempt(url, name, password, "192.0.2.10", limits, now=T0 - dt.timedelta(days=1)) == (uid, False)
    # one guess from each of many addresses: ten are counted, then all wait
    results = [attempt(url, name, WRONG, f"198.51.100.{i}", limits) for i in range(1, 16)]
    assert results == [(None, False)] * 10 + [(None, True)] * 5
    # a new address waits too, even with the right password (the owner's included) ...
    assert attempt(url, name, password, "203.0.113.77", limits) == (None, True)
    # ... but the address the owner logged in from yesterday is let through
    assert attempt(url, name, password, "192.0.2.10", limits) == (uid, False)
    assert attempt(url, name, WRONG, "192.0.2.10", limits) == (None, False)
    # the wait passes: one more counted guess, then a longer wait
    assert attempt(url, name, WRONG, "198.51.100.99", limits, now=T0 + dt.timedelta(seconds=60)) == (None, False)
    assert attempt(url, name, WRONG, "198.51.100.98", limits, now=T0 + dt.timedelta(seconds=61)) == (None, True)
    assert counter(url, name, ANY_ADDRESS) == (11, T0 + dt.timedelta(seconds=180))


def test_unknown_and_deactivated_usernames_are_throttled_like_real_ones(settings, make_user, spy_hashes):
    uid, name, password = make_user("alex")
    _, gone, gone_password = make_user("gone")
    with session_scope(settings.database_url) as s:
        s.get(User, users.get_user_by_username(gone, session=s).id).active = False
    limits = limits_for(settings, failures_per_address=3)
    url = settings.database_url
    outcomes = {}
    for who, pw in ((name, WRONG), ("nobody.here", WRONG), (gone, gone_password)):
        outcomes[who] = [attempt(url, who, pw, "203.0.113.9", limits) for _ in range(5)]
    assert set(map(tuple, outcomes.values())) == {((None, False),) * 3 + ((None, True),) * 2}
    # one argon2 verification per attempt: the user's hash only for the active user's
    # counted attempts; else the dummy hash
    dummy = users.dummy_hash()
    assert len(spy_hashes) == 15
    assert [h == dummy for h in spy_hashes] == [False] * 3 + [True] * 12


def test_old_counters_are_pruned_and_known_addresses_kept_for_their_time(settings, make_user):
    uid, name, password = make_user("alex")
    limits = limits_for(settings, forget_hours=24, max_delay_minutes=60, known_address_days=30)
    url = settings.database_url
    assert attempt(url, name, password, "192.0.2.10", limits, now=T0) == (uid, False)
    for i in range(50):
        attempt(url, f"sprayed{i}", WRONG, "198.51.100.1", limits, now=T0)
    with session_scope(url) as s:
        assert len(s.scalars(select(LoginThrottle)).all()) == 2 + 100
    # the next attempt a day later deletes the idle counters, not the known address
    attempt(url, "someone", WRONG, "198.51.100.2", limits, now=T0 + dt.timedelta(hours=24, seconds=1))
    with session_scope(url) as s:
        left = {(r.username, r.address) for r in s.scalars(select(LoginThrottle))}
    assert left == {(name, "192.0.2.10"), ("someone", "198.51.100.2"), ("someone", ANY_ADDRESS)}
    with session_scope(url) as s:
        assert prune_login_throttles(limits=limits, now=T0 + dt.timedelta(days=31), session=s) == 3


def test_parallel_attempts_on_idle_counters_while_they_are_pruned(settings, make_user):
    uid, name, password = make_user("alex")
    limits = limits_for(settings, failures_per_address=3, failures_per_account=100, forget_hours=24)
    url = settings.database_url
    addresses = [f"198.51.100.{i}" for i in range(12)]
    for address in addresses:
        attempt(url, name, WRONG, address, limits, now=T0)
    # a day later every counter is idle: each attempt prunes while the others count
    later = T0 + dt.timedelta(hours=25)
    results = in_parallel(24, lambda b, i: attempt(url, name, WRONG, addresses[i % 12], limits, now=later, barrier=b))
    assert results == [(None, False)] * 24
    with session_scope(url) as s:
        rows = s.scalars(select(LoginThrottle).where(LoginThrottle.username == name)).all()
    # every counter started again at the day's first attempt, and none was lost to the pruning
    assert {r.address: (r.failures, r.last_failure_at) for r in rows} == {
        **{address: (2, later) for address in addresses}, ANY_ADDRESS: (24, later)}


# --- through the web app ---------------------------------------------------------------


@pytest.fixture
def app_for(settings):
    """Factory: the web app with some login_* settings changed."""

    def factory(**changes):
        return create_app(settings.copy(update={f"login_{k}": v for k, v in changes.items()}))

    return factory


def post_login(client, username, password):
    return client.post("/api/login", json={"username": username, "password": password})


def shape(resp):
    """Everything a client sees of an answer but its date."""
    return resp.status_code, resp.text, sorted((k, v) for k, v in resp.headers.items() if k != "date")


def test_parallel_wrong_passwords_over_http_are_all_counted(settings, make_user, app_for):
    uid, name, password = make_user("alex")
    client = TestClient(app_for(failures_per_address=5))
    answers = in_parallel(20, lambda b, _: (b.wait(), shape(post_login(client, name, WRONG)))[1])
    assert len(set(map(str, answers))) == 1 and answers[0][0] == 401
    assert counter(settings.database_url, name, "testclient")[0] == 5
    assert shape(post_login(client, name, password)) == answers[0]
    assert post_login(TestClient(client.app, client=("192.0.2.10", 50000)), name, password).status_code == 200


def test_every_failure_gets_the_same_answer_in_the_same_time(settings, make_user, app_for, real_argon2):
    _, alex, _ = make_user("alex")
    _, gone, gone_password = make_user("gone")
    _, held, held_password = make_user("held")
    with session_scope(settings.database_url) as s:
        users.get_user_by_username(gone, session=s).active = False
    client = TestClient(app_for(failures_per_address=12))
    for _ in range(12):
        post_login(client, held, WRONG)
    kinds = {
        "unknown user": ("no.such.person", WRONG),
        "wrong password": (alex, WRONG),
        "deactivated": (gone, gone_password),
        "throttled": (held, held_password),  # the right password, while waiting
    }
    times = {kind: [] for kind in kinds}
    answers = set()
    for _ in range(10):  # interleaved, so a busy moment hits every kind alike
        for kind, (username, password) in kinds.items():
            start = time.perf_counter()
            resp = post_login(client, username, password)
            times[kind].append(time.perf_counter() - start)
            answers.add(str(shape(resp)))
            assert resp.status_code == 401 and resp.json() == {"error": LOGIN_FAILED, "code": "login_failed"}
    assert len(answers) == 1
    medians = {kind: statistics.median(t) for kind, t in times.items()}
    # the old early return for a locked account answered ~35x faster than an unknown user
    assert max(medians.values()) / min(medians.values()) < 1.5, medians


def test_logout_clears_the_cookie_with_the_same_attributes(settings, make_user, app_for):
    _, name, password = make_user("alex")
    for secure in (False, True):
        app = create_app(settings.copy(update={"cookie_secure": secure}))
        client = TestClient(app, base_url="https://testserver")
        assert post_login(client, name, password).status_code == 200
        cookie = client.post("/api/logout", json={}).headers["set-cookie"].lower()
        assert "pa_session=" in cookie and "max-age=0" in cookie
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        assert ("secure" in cookie.replace("samesite", "")) is secure


def test_the_client_address_is_the_peer_unless_a_proxy_is_trusted(settings, make_user, app_for):
    _, name, password = make_user("alex")
    spoofed = {"X-Forwarded-For": "192.0.2.200"}
    client = TestClient(app_for(failures_per_address=2))
    for _ in range(2):
        client.post("/api/login", json={"username": name, "password": WRONG}, headers=spoofed)
    assert counter(settings.database_url, name, "testclient")[0] == 2
    assert counter(settings.database_url, name, "192.0.2.200") is None
    behind_proxy = TestClient(app_for(failures_per_address=2, trust_forwarded_for=True))
    resp = behind_proxy.post("/api/login", json={"username": name, "password": password},
                             headers={"X-Forwarded-For": "10.9.9.9, 192.0.2.201"})
    assert resp.status_code == 200
    assert counter(settings.database_url, name, "192.0.2.201") == (0, counter(settings.database_url, name,
                                                                             "192.0.2.201")[1])
