"""The CLI: users, demo users, NLU sync check, content load/export, migrations."""
import io
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from assistant import cli, cli_setup
from assistant.db import get_engine, session_scope
from assistant.migrations import downgrade, upgrade
from assistant.models import Base, User
from assistant.users import verify_password


def run_cli(args, stdin=""):
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return cli.main(args)
    finally:
        sys.stdin = old


def test_users_create_hashes_the_password_and_links_the_manager(settings, capsys):
    assert run_cli(["users", "create", "--username", "Mgr.One", "--role", "manager",
                    "--password-stdin"], "a long manager password\n") == 0
    assert run_cli(["users", "create", "--username", "po.one", "--role", "practitioner",
                    "--manager", "mgr.one", "--display-name", "P O", "--password-stdin"],
                   "a long practitioner password\n") == 0
    with session_scope(settings.database_url) as s:
        po = s.scalars(select(User).where(User.username == "po.one")).one()
        assert po.manager.username == "mgr.one" and po.display_name == "P O"
        assert po.password_hash.startswith("$argon2")
        assert verify_password(po.password_hash, "a long practitioner password")


@pytest.mark.parametrize("args, stdin, message", [
    (["--username", "x!", "--role", "practitioner"], "long enough password\n", "username"),
    (["--username", "okname", "--role", "practitioner"], "short\n", "at least 10"),
    (["--username", "okname", "--role", "practitioner", "--manager", "ghost"], "long enough password\n",
     "not a manager"),
])
def test_users_create_rejects_bad_input(settings, capsys, args, stdin, message):
    assert run_cli(["users", "create", *args, "--password-stdin"], stdin) == 1
    assert message in capsys.readouterr().err


def test_duplicate_username_is_refused(settings, capsys):
    run_cli(["users", "create", "--username", "dup", "--role", "programme", "--password-stdin"], "long enough pw 1\n")
    assert run_cli(["users", "create", "--username", "DUP", "--role", "programme", "--password-stdin"],
                   "long enough pw 2\n") == 1
    assert "taken" in capsys.readouterr().err


def test_demo_users_only_in_dev(settings, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli_setup, "DEMO_CREDENTIALS", tmp_path / "demo.txt")
    assert cli.main(["demo-users"]) == 1  # env is "test"
    monkeypatch.setenv("ASSISTANT_ENV", "dev")
    cli_setup.get_settings.cache_clear()
    assert cli.main(["demo-users"]) == 0
    first = (tmp_path / "demo.txt").read_text()
    assert cli.main(["demo-users"]) == 0  # second run: same users, same passwords
    assert (tmp_path / "demo.txt").read_text() == first
    role, username, password = first.splitlines()[1].split(" ")
    with session_scope(settings.database_url) as s:
        user = s.scalars(select(User).where(User.username == username)).one()
        assert user.role == role and verify_password(user.password_hash, password)
    assert password in capsys.readouterr().out


def test_content_load_and_export(settings, tmp_path, capsys):
    assert cli.main(["content", "load"]) == 0
    out = tmp_path / "faqs.yml"
    assert cli.main(["content", "export", "--out", str(out)]) == 0
    assert "key: seed_what_is" in out.read_text()
    bad = tmp_path / "bad.yml"
    bad.write_text("- key: Not Valid\n")
    assert cli.main(["content", "load", "--file", str(bad)]) == 1
    assert "content error" in capsys.readouterr().err


def test_nlu_check_passes_on_the_repo():
    assert cli.main(["nlu", "--check"]) == 0


def test_migrations_match_the_models_and_downgrade_cleanly(db_url):
    upgrade(db_url)
    with get_engine(db_url).connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []
    downgrade(db_url, "base")
    upgrade(db_url)


def test_content_load_twice_and_after_the_question_sets_change(settings, db_url):
    """`make run` seeds on every start: loading again, or after a set was edited, must work."""
    from assistant.reflections import SetContent, get_set, seed_sets

    assert cli.main(["content", "load"]) == 0
    assert cli.main(["content", "load"]) == 0
    edited = SetContent(key="quick_check", name="Quick check", source="Synthetic test source", questions=[
        {"id": "new_one", "ask": "A brand new question?"},
        {"id": "went_well", "ask": "What went well, in a sentence?"},
    ])
    with session_scope(db_url) as session:
        seed_sets([edited], session=session)
    with session_scope(db_url) as session:
        questions = get_set("quick_check", session=session).questions
        assert [(q.position, q.qid, q.ask) for q in questions] == [
            (0, "new_one", "A brand new question?"), (1, "went_well", "What went well, in a sentence?")]
    assert cli.main(["content", "load"]) == 0  # and back to the repo's version
