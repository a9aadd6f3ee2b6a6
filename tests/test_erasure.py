"""Erasure that erases: a deleted or purged reflection leaves no readable copy in the
database files (SQLite: the database, its WAL and shared-memory files are scanned for a
marker), and no row on PostgreSQL. The sharing rule follows the person shared with."""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from assistant import reflections as data
from assistant.db import session_scope
from assistant.models import Reflection, ReflectionAnswer, User
from assistant.seed import seed_content
from tests.conftest import ROOT


def _files(url: str):
    path = Path(make_url(url).database)
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def _reflection_with(marker: str, author_id: int, url: str, *, answers: int = 3) -> int:
    with session_scope(url) as s:
        set_row = data.list_sets(session=s)[0]
        row = data.start_reflection(author_id=author_id, run_id=uuid.uuid4().hex, set_row=set_row, session=s)
        for n, q in enumerate(set_row.questions[:answers], start=1):
            data.save_answer(row, position=n, qid=q.qid, question=q.ask,
                             answer=f"{marker} answer {n} " + "x" * 200, session=s)
        return row.id


def _readable_anywhere(marker: str, url: str) -> bool:
    if url.startswith("sqlite"):
        return any(marker.encode() in p.read_bytes() for p in _files(url))
    with session_scope(url) as s:
        return s.execute(text("SELECT count(*) FROM reflection_answers WHERE answer LIKE :m"),
                         {"m": f"%{marker}%"}).scalar() > 0


def test_a_deleted_reflection_leaves_no_readable_copy(settings, make_user):
    url = settings.database_url
    with session_scope(url) as s:
        seed_content(ROOT / "content", session=s)
    uid, _, _ = make_user("erase.me")
    keep = _reflection_with("KEEPMARKER7731", uid, url)
    gone = _reflection_with("GONEMARKER4409", uid, url)
    # an edit overwrites an answer in place: the old text must not linger either
    with session_scope(url) as s:
        row = s.get(Reflection, keep)
        first = row.answers[0]
        data.save_answer(row, position=1, qid=first.qid, question=first.question,
                         answer="KEEPMARKER7731 rewritten", session=s)
    assert _readable_anywhere("GONEMARKER4409", url)
    with session_scope(url) as s:
        data.delete_own(gone, uid, session=s)
    assert not _readable_anywhere("GONEMARKER4409", url)
    assert _readable_anywhere("KEEPMARKER7731", url)  # the scan does find what is there
    with session_scope(url) as s:
        assert s.scalars(select(ReflectionAnswer).where(ReflectionAnswer.reflection_id == gone)).first() is None


def test_purged_reflections_leave_no_readable_copy(settings, make_user):
    url = settings.database_url
    with session_scope(url) as s:
        seed_content(ROOT / "content", session=s)
    uid, _, _ = make_user("purge.me")
    old = _reflection_with("OLDMARKER5521", uid, url)
    with session_scope(url) as s:
        s.get(Reflection, old).updated_at = dt.datetime(2020, 1, 1)
    with session_scope(url) as s:
        assert data.purge(365, session=s) == 1
    assert not _readable_anywhere("OLDMARKER5521", url)


def test_sharing_is_with_the_person_not_the_post(settings, make_user):
    url = settings.database_url
    with session_scope(url) as s:
        seed_content(ROOT / "content", session=s)
    old_mgr, _, _ = make_user("old.mgr", role="manager")
    new_mgr, _, _ = make_user("new.mgr", role="manager")
    uid, _, _ = make_user("mover", manager="old.mgr")
    rid = _reflection_with("SHAREMARKER", uid, url, answers=1)
    with session_scope(url) as s:
        row = s.get(Reflection, rid)
        data.complete(row, session=s)
        assert data.set_shared(row, True, session=s).id == old_mgr
        assert row.shared_with_id == old_mgr
    with session_scope(url) as s:  # the practitioner moves team
        s.get(User, uid).manager_id = new_mgr
    with session_scope(url) as s:
        row = s.get(Reflection, rid)
        assert data.readable_by(row, s.get(User, old_mgr), session=s)
        assert not data.readable_by(row, s.get(User, new_mgr), session=s)
        assert [r.id for r in data.shared_with_manager(old_mgr, session=s)] == [rid]
        assert data.shared_with_manager(new_mgr, session=s) == []
        # sharing again is a new decision, with the manager of today
        assert data.set_shared(row, True, session=s).id == new_mgr
        assert not data.readable_by(row, s.get(User, old_mgr), session=s)
        data.set_shared(row, False, session=s)
        assert not data.readable_by(row, s.get(User, new_mgr), session=s)
        assert row.shared_with_id is None


def test_the_migration_records_who_existing_shares_went_to(db_url):
    from assistant.migrations import upgrade

    upgrade(db_url, "0003")
    with session_scope(db_url) as s:
        s.execute(text("INSERT INTO users (id, username, display_name, password_hash, role, manager_id, active, "
                       "failed_logins, created_at) VALUES (1, 'm', 'M', 'x', 'manager', NULL, true, 0, '2026-01-01 00:00:00'),"
                       "(2, 'p', 'P', 'x', 'practitioner', 1, true, 0, '2026-01-01 00:00:00'),"
                       "(3, 'q', 'Q', 'x', 'practitioner', NULL, true, 0, '2026-01-01 00:00:00')"))
        for rid, author, shared in ((1, 2, True), (2, 2, False), (3, 3, True)):
            s.execute(text("INSERT INTO reflections (id, author_id, run_id, set_key, set_name, status, shared, "
                           "started_at, updated_at) VALUES (:id, :a, :run, 'gibbs', 'Gibbs', 'completed', :sh, "
                           "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"), {"id": rid, "a": author, "run": f"r{rid}", "sh": shared})
            s.execute(text("INSERT INTO reflection_answers (reflection_id, position, qid, question, answer, "
                           "skipped, masked_count, created_at) VALUES (:id, 1, 'q1', 'Q?', 'kept', false, 0, "
                           "'2026-01-01 00:00:00')"), {"id": rid})
    upgrade(db_url)  # through the application's engine (foreign keys on)
    with session_scope(db_url) as s:
        rows = {r.id: (r.shared, r.shared_with_id, [a.answer for a in r.answers])
                for r in s.scalars(select(Reflection))}
    assert rows == {1: (True, 1, ["kept"]), 2: (False, None, ["kept"]), 3: (False, None, ["kept"])}
