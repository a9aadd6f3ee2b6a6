"""The ``users`` commands beyond ``create`` (registered by assistant.cli): list, set-role,
set-manager, set-sso-id, deactivate, reactivate, reset-password. The rules are assistant.accounts'; the
command line acts as no user (audited as "command line": whoever runs it has the database)."""
from __future__ import annotations

import sys
from typing import Callable

from assistant.config import get_settings


def _by_username(username: str, session):
    from assistant.accounts import AccountNotFound
    from assistant.users import get_user_by_username

    user = get_user_by_username(username, session=session)
    if user is None:
        raise AccountNotFound(f"No account with the username {username!r}.")
    return user


def _run(action: Callable) -> int:
    """Run ``action(session)`` in one transaction; a refused change prints why and exits 1."""
    from assistant.db import session_scope
    from assistant.errors import DomainError

    try:
        with session_scope(get_settings().database_url) as session:
            action(session)
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_list(args) -> int:
    """List accounts (search username and display name; filter by role and status)."""
    from assistant.account_lists import list_accounts

    def action(session):
        active = {"active": True, "inactive": False}.get(args.status)
        rows, total = list_accounts(query=args.query or "", role=args.role, active=active, page=args.page,
                                    per_page=args.per_page, session=session)
        for u in rows:
            manager = u.manager.username if u.manager else "-"
            flags = ("" if u.active else " deactivated") + (" must-change-password" if u.must_change_password else "")
            print(f"{u.id}\t{u.username}\t{u.role}\t{manager}\t{u.display_name}{flags}")
        print(f"({len(rows)} of {total}; page {args.page})", file=sys.stderr)

    return _run(action)


def cmd_set_role(args) -> int:
    """Change an account's role."""
    from assistant.accounts import set_role

    def action(session):
        user = set_role(_by_username(args.username, session).id, args.role, actor=None, session=session)
        print(f"{user.username} is now {user.role}")

    return _run(action)


def cmd_set_manager(args) -> int:
    """Change (or with --none remove) an account's line manager (an active manager)."""
    from assistant.accounts import set_manager

    def action(session):
        manager_id = None if args.none else _by_username(args.manager, session).id
        user = set_manager(_by_username(args.username, session).id, manager_id, actor=None, session=session)
        print(f"{user.username}'s line manager: {user.manager.username if user.manager else 'none'}")

    return _run(action)


def cmd_set_sso_id(args) -> int:
    """Link an account to its single sign-on identifier (the value of ASSISTANT_SSO_MATCH_CLAIM
    for that person: email address, sub or oid), or unlink it with --none."""
    from assistant.sso import set_sso_id

    def action(session):
        user = set_sso_id(_by_username(args.username, session).id, None if args.none else args.sso_id,
                          claim=get_settings().sso_match_claim, actor=None, session=session)
        print(f"{user.username}'s single sign-on identifier: {user.sso_id or 'none'}")

    return _run(action)


def cmd_deactivate(args) -> int:
    """Deactivate an account (their sessions end now); --export-offered once they were offered
    the download of their own reflections."""
    from assistant.accounts import deactivate

    def action(session):
        user = deactivate(_by_username(args.username, session).id, actor=None, export_offered=args.export_offered,
                          retention_days=get_settings().retention_days, session=session)
        print(f"{user.username} is deactivated")

    return _run(action)


def cmd_reactivate(args) -> int:
    """Let a deactivated account log in again."""
    from assistant.accounts import reactivate

    def action(session):
        print(f"{reactivate(_by_username(args.username, session).id, actor=None, session=session).username} "
              "is active again")

    return _run(action)


def cmd_reset_password(args) -> int:
    """Replace a password by a one-time link (default) or a temporary one (--temporary) that
    must be changed at the next login; their sessions end. Printed once."""
    from assistant.accounts import reset_password

    def action(session):
        user = _by_username(args.username, session)
        cred = reset_password(user.id, "temporary" if args.temporary else "link", actor=None, session=session)
        if cred.method == "temporary":
            print(f"temporary password for {user.username} (they must change it when they log in): {cred.secret}")
        else:
            print(f"one-time link for {user.username} (works once, until {cred.expires_at:%Y-%m-%d %H:%M} UTC; "
                  f"prefix the service's address): {args.base_url.rstrip('/')}{cred.link_path}")

    return _run(action)


def add_commands(users, roles) -> None:
    """Register the commands on the ``users`` subparsers (``roles``: the role choices)."""
    p = users.add_parser("list", help=cmd_list.__doc__)
    p.add_argument("--query", "-q")
    p.add_argument("--role", choices=roles)
    p.add_argument("--status", choices=["active", "inactive", "all"], default="all")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--per-page", type=int, default=100)
    p.set_defaults(func=cmd_list)

    p = users.add_parser("set-role", help=cmd_set_role.__doc__)
    p.add_argument("username")
    p.add_argument("role", choices=roles)
    p.set_defaults(func=cmd_set_role)

    p = users.add_parser("set-manager", help=cmd_set_manager.__doc__)
    p.add_argument("username")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--manager", help="username of the new line manager")
    which.add_argument("--none", action="store_true", help="no line manager")
    p.set_defaults(func=cmd_set_manager)

    p = users.add_parser("set-sso-id", help=cmd_set_sso_id.__doc__)
    p.add_argument("username")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("sso_id", nargs="?", help="the identity provider's value for this person")
    which.add_argument("--none", action="store_true", help="unlink")
    p.set_defaults(func=cmd_set_sso_id)

    p = users.add_parser("deactivate", help=cmd_deactivate.__doc__)
    p.add_argument("username")
    p.add_argument("--export-offered", action="store_true")
    p.set_defaults(func=cmd_deactivate)

    p = users.add_parser("reactivate", help=cmd_reactivate.__doc__)
    p.add_argument("username")
    p.set_defaults(func=cmd_reactivate)

    p = users.add_parser("reset-password", help=cmd_reset_password.__doc__)
    p.add_argument("username")
    p.add_argument("--temporary", action="store_true", help="a temporary password instead of a link")
    p.add_argument("--base-url", default="", help="the service's address, e.g. https://assistant.example")
    p.set_defaults(func=cmd_reset_password)
