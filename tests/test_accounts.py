"""User administration in the domain (assistant.accounts) and its CLI: each operation, the
rules (line managers, the last admin, export first), sessions ending, one-time links, audit."""
import datetime as dt
import io
import json
import sys

import pytest
from sqlalchemy import func, select

from assistant import account_lists, accounts, cli, own_password
from assistant.db import session_scope
from assistant.models import AuditEntry, Reflection, User, WebSession, utcnow
from assistant.login import LoginLimits, authenticate
from assistant.users import start_session, user_for_token, verify_password
from assistant.config import Settings


@pytest.fixture
def people(make_user):
    """An admin, two managers (one above the other), a practitioner, the programme team."""
    ids = {"adm": make_user("adm", role="admin"), "boss": make_user("boss", role="manager"),
           "mgr": make_user("mgr", role="manager"), "prog": make_user("prog", role="programme")}
    ids["pat"] = make_user("pat", manager="mgr")
    return {name: row[0] for name, row in ids.items()}


def run(settings, fn, *args, **kwargs):
    """Call a domain function in its own committed transaction, as the admin by default."""
    with session_scope(settings.database_url) as s:
        actor = kwargs.pop("actor", "adm")
        if actor is not None:
            actor = s.scalars(select(User).where(User.username == actor)).one()
        result = fn(*args, actor=actor, session=s, **kwargs)
        return result.id if isinstance(result, User) else result


def get(settings, user_id):
    with session_scope(settings.database_url) as s:
        user = s.get(User, user_id)
        s.expunge(user)
        return user


def entries(settings, action):
    with session_scope(settings.database_url) as s:
        return [(e.user_id, e.target, json.loads(e.detail or "{}"), e.created_at)
                for e in s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def test_list_and_search_accounts(settings, people):
    with session_scope(settings.database_url) as s:
        rows, total = account_lists.list_accounts(session=s)
        assert total == 5 and [u.username for u in rows] == ["adm", "boss", "mgr", "pat", "prog"]
        rows, total = account_lists.list_accounts(query="MG", session=s)
        assert [u.username for u in rows] == ["mgr"]
        rows, total = account_lists.list_accounts(role="manager", session=s)
        assert {u.username for u in rows} == {"boss", "mgr"}
        rows, total = account_lists.list_accounts(per_page=2, page=2, session=s)
        assert total == 5 and [u.username for u in rows] == ["mgr", "pat"]
        rows, total = account_lists.list_accounts(query="%", session=s)  # LIKE's wildcard is literal
        assert total == 0
        s.get(User, people["pat"]).active = False
        s.flush()
        assert [u.username for u in account_lists.list_accounts(active=False, session=s)[0]] == ["pat"]
        with pytest.raises(accounts.AccountInvalid):
            account_lists.list_accounts(role="root", session=s)


@pytest.mark.parametrize("method", ["link", "temporary"])
def test_create_an_account(settings, people, method):
    with session_scope(settings.database_url) as s:
        actor = s.get(User, people["adm"])
        user, cred = accounts.create_account(actor=actor, username="New.Po", display_name=" New PO ",
                                             role="practitioner", manager_id=people["mgr"], method=method,
                                             session=s)
        assert (user.username, user.display_name, user.manager_id) == ("new.po", "New PO", people["mgr"])
        assert cred.method == method and user.must_change_password == (method == "temporary")
        if method == "temporary":
            assert len(cred.secret) >= 10 and verify_password(user.password_hash, cred.secret)
            assert cred.link_path is None
        else:
            assert cred.link_path == f"/password#token={cred.secret}"
            assert user.password_reset_hash != cred.secret and len(user.password_reset_hash) == 64
    (who, target, detail, when), = entries(settings, "account.create")
    assert (who, target, detail["role"], detail["by"]) == (people["adm"], "new.po", "practitioner", "adm")
    assert abs((utcnow() - when).total_seconds()) < 60


def test_create_refuses_bad_input(settings, people):
    with pytest.raises(accounts.AccountConflict, match="taken"):
        run(settings, accounts.create_account, username="PAT", display_name=None, role="practitioner")
    with pytest.raises(accounts.AccountInvalid, match="practitioner, not a manager"):
        run(settings, accounts.create_account, username="x1", display_name=None, role="practitioner",
            manager_id=people["pat"])
    with pytest.raises(accounts.AccountNotAllowed, match="Only an administrator"):
        run(settings, accounts.create_account, username="x2", display_name=None, role="admin", actor="prog")
    with pytest.raises(accounts.AccountInvalid):
        run(settings, accounts.create_account, username="x3", display_name=None, role="practitioner",
            method="email")


def test_change_role(settings, people):
    run(settings, accounts.set_role, people["prog"], "admin")
    assert get(settings, people["prog"]).role == "admin"
    (who, target, detail, _), = entries(settings, "account.role")
    assert (who, target, detail["from"], detail["to"]) == (people["adm"], "prog", "programme", "admin")
    with pytest.raises(accounts.AccountConflict, match="manages 1 active team member"):
        run(settings, accounts.set_role, people["mgr"], "practitioner")
    with pytest.raises(accounts.AccountNotAllowed, match="your own account"):
        run(settings, accounts.set_role, people["adm"], "manager")  # another admin exists now


def test_line_manager_rules(settings, people):
    run(settings, accounts.set_manager, people["mgr"], people["boss"])
    assert get(settings, people["mgr"]).manager_id == people["boss"]
    # a practitioner (or anyone not a manager) as line manager: refused
    with pytest.raises(accounts.AccountInvalid, match="pat is a practitioner, not a manager"):
        run(settings, accounts.set_manager, people["prog"], people["pat"])
    with pytest.raises(accounts.AccountInvalid, match="own line manager"):
        run(settings, accounts.set_manager, people["mgr"], people["mgr"])
    with pytest.raises(accounts.AccountInvalid, match="loop"):
        run(settings, accounts.set_manager, people["boss"], people["mgr"])
    with pytest.raises(accounts.AccountInvalid, match="No account"):
        run(settings, accounts.set_manager, people["pat"], 999999)
    run(settings, accounts.set_manager, people["pat"], people["boss"])
    run(settings, accounts.deactivate, people["mgr"], export_offered=False, retention_days=365)
    with pytest.raises(accounts.AccountInvalid, match="deactivated"):
        run(settings, accounts.set_manager, people["pat"], people["mgr"])
    run(settings, accounts.set_manager, people["pat"], None)
    assert get(settings, people["pat"]).manager_id is None
    assert [d["to"] for _, _, d, _ in entries(settings, "account.manager")] == [
        people["boss"], people["boss"], None]


def test_deactivate_ends_sessions_and_login(settings, people):
    with session_scope(settings.database_url) as s:
        token = start_session(s.get(User, people["pat"]), hours=1, session=s)
    run(settings, accounts.deactivate, people["pat"], export_offered=False, retention_days=365)
    with session_scope(settings.database_url) as s:
        assert user_for_token(token, session=s) is None
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0
        limits = LoginLimits.from_settings(Settings(env="test", database_url=settings.database_url))
        assert authenticate("pat", "correct horse pat", address="1.2.3.4", limits=limits, session=s).user is None
    (who, target, detail, _), = entries(settings, "account.deactivate")
    assert (who, target, detail["sessions_ended"]) == (people["adm"], "pat", 1)
    run(settings, accounts.reactivate, people["pat"])
    with session_scope(settings.database_url) as s:
        assert authenticate("pat", "correct horse pat", address="1.2.3.4", limits=limits, session=s).user
    assert len(entries(settings, "account.reactivate")) == 1


def test_reactivate_drops_a_manager_who_left(settings, people):
    run(settings, accounts.deactivate, people["pat"], export_offered=False, retention_days=365)
    run(settings, accounts.deactivate, people["mgr"], export_offered=False, retention_days=365)
    run(settings, accounts.reactivate, people["pat"])
    assert get(settings, people["pat"]).manager_id is None


def test_deactivation_offers_the_export_first(settings, people):
    with session_scope(settings.database_url) as s:
        s.add(Reflection(author_id=people["pat"], run_id="r1", set_key="gibbs", set_name="Gibbs"))
    with pytest.raises(accounts.AccountConflict, match="has 1 reflection") as exc:
        run(settings, accounts.deactivate, people["pat"], export_offered=False, retention_days=30)
    assert exc.value.code == "export_first" and exc.value.extra["export_path"] == accounts.OWN_EXPORT_PATH
    assert get(settings, people["pat"]).active
    run(settings, accounts.deactivate, people["pat"], export_offered=True, retention_days=30)
    assert not get(settings, people["pat"]).active
    with session_scope(settings.database_url) as s:  # kept: the retention purge deletes them in time
        assert s.scalar(select(func.count()).select_from(Reflection)) == 1
        held = accounts.reflection_summary(people["pat"], retention_days=30, session=s)
        assert held["count"] == 1 and held["kept_until"] > utcnow() + dt.timedelta(days=29)


def test_a_manager_with_a_team_stays_until_the_team_moves(settings, people):
    with pytest.raises(accounts.AccountConflict, match="another line manager first"):
        run(settings, accounts.deactivate, people["mgr"], export_offered=False, retention_days=365)


def test_the_last_admin_stays(settings, people):
    with pytest.raises(accounts.AccountConflict, match="last active administrator") as exc:
        run(settings, accounts.deactivate, people["adm"], export_offered=False, retention_days=365)
    assert exc.value.code == "last_admin"
    with pytest.raises(accounts.AccountConflict, match="last active administrator"):
        run(settings, accounts.set_role, people["adm"], "manager")
    # nor from the command line
    with pytest.raises(accounts.AccountConflict, match="last active administrator"):
        run(settings, accounts.deactivate, people["adm"], export_offered=False, retention_days=365, actor=None)
    assert get(settings, people["adm"]).active and get(settings, people["adm"]).role == "admin"
    # with a second admin, the command line may; an admin still can't do it to themself
    run(settings, accounts.set_role, people["prog"], "admin")
    with pytest.raises(accounts.AccountNotAllowed, match="your own account"):
        run(settings, accounts.deactivate, people["adm"], export_offered=False, retention_days=365)
    run(settings, accounts.deactivate, people["adm"], export_offered=False, retention_days=365, actor="prog")
    assert not get(settings, people["adm"]).active


def test_reset_link_works_once_and_not_after_expiry(settings, people):
    with session_scope(settings.database_url) as s:
        token = start_session(s.get(User, people["pat"]), hours=1, session=s)
    cred = run(settings, accounts.reset_password, people["pat"], "link")
    with session_scope(settings.database_url) as s:
        assert user_for_token(token, session=s) is None  # sessions end at a reset
        assert not verify_password(s.get(User, people["pat"]).password_hash, "correct horse pat")
    with pytest.raises(accounts.AccountInvalid, match="at least 10"):
        with session_scope(settings.database_url) as s:
            own_password.redeem_link(cred.secret, "short", session=s)
    with session_scope(settings.database_url) as s:
        own_password.redeem_link(cred.secret, "a brand new password", session=s)
    assert verify_password(get(settings, people["pat"]).password_hash, "a brand new password")
    with pytest.raises(accounts.AccountInvalid, match="already been used") as exc:
        with session_scope(settings.database_url) as s:
            own_password.redeem_link(cred.secret, "another new password", session=s)
    assert exc.value.code == "link_used"
    assert verify_password(get(settings, people["pat"]).password_hash, "a brand new password")
    cred = run(settings, accounts.reset_password, people["pat"], "link", hours=1)
    with pytest.raises(accounts.AccountInvalid, match="expired"):
        with session_scope(settings.database_url) as s:
            own_password.redeem_link(cred.secret, "another new password", session=s,
                                 now=utcnow() + dt.timedelta(hours=2))
    with pytest.raises(accounts.AccountInvalid, match="not valid"):
        with session_scope(settings.database_url) as s:
            own_password.redeem_link("made-up", "another new password", session=s)
    # a newer link replaces the older one
    newer = run(settings, accounts.reset_password, people["pat"], "link")
    with pytest.raises(accounts.AccountInvalid, match="not valid"):
        with session_scope(settings.database_url) as s:
            own_password.redeem_link(cred.secret, "another new password", session=s)
    with session_scope(settings.database_url) as s:
        own_password.redeem_link(newer.secret, "another new password", session=s)
    assert [who for who, *_ in entries(settings, "account.password_set")] == [people["pat"]] * 2


def test_reset_refusals(settings, people):
    with pytest.raises(accounts.AccountNotAllowed, match="your own account"):
        run(settings, accounts.reset_password, people["adm"], "temporary")
    with pytest.raises(accounts.AccountNotFound):
        run(settings, accounts.reset_password, 424242, "temporary")
    run(settings, accounts.deactivate, people["pat"], export_offered=False, retention_days=365)
    with pytest.raises(accounts.AccountConflict, match="reactivate it first"):
        run(settings, accounts.reset_password, people["pat"], "temporary")


def run_cli(args, stdin=""):
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return cli.main(args)
    finally:
        sys.stdin = old


def test_cli_equivalents(settings, people, capsys):
    assert run_cli(["users", "list", "--role", "manager"]) == 0
    out = capsys.readouterr().out
    assert "boss" in out and "mgr" in out and "pat" not in out
    assert run_cli(["users", "set-manager", "prog", "--manager", "pat"]) == 1
    assert "not a manager" in capsys.readouterr().err
    assert run_cli(["users", "set-manager", "pat", "--manager", "boss"]) == 0
    assert get(settings, people["pat"]).manager_id == people["boss"]
    assert run_cli(["users", "set-role", "prog", "manager"]) == 0
    assert get(settings, people["prog"]).role == "manager"
    assert run_cli(["users", "reset-password", "pat", "--temporary"]) == 0
    temporary = capsys.readouterr().out.strip().split()[-1]
    assert verify_password(get(settings, people["pat"]).password_hash, temporary)
    assert get(settings, people["pat"]).must_change_password
    assert run_cli(["users", "reset-password", "pat"]) == 0
    assert "/password#token=" in capsys.readouterr().out
    assert run_cli(["users", "deactivate", "pat"]) == 0
    assert not get(settings, people["pat"]).active
    assert run_cli(["users", "reactivate", "pat"]) == 0
    assert get(settings, people["pat"]).active
    assert run_cli(["users", "deactivate", "adm"]) == 1
    assert "last active administrator" in capsys.readouterr().err
    assert run_cli(["users", "set-role", "ghost", "admin"]) == 1
    # the command line is recorded as such
    assert entries(settings, "account.role")[0][0] is None
    assert entries(settings, "account.role")[0][2]["by"].startswith("command line")
