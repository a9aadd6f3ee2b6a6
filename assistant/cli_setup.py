"""Setting up: the spaCy pipeline, the NLU data, the database schema, the content, accounts
(``users create``) and demo users; what ``make`` runs before starting the stack. Registered by
assistant.cli, which holds the parser."""
from __future__ import annotations

import getpass
import os
import secrets
import sys
from pathlib import Path

from assistant.config import PROJECT_ROOT, get_settings

NLU_FILE = PROJECT_ROOT / "nlu_data" / "faq.yml"
SPACY_DIR = PROJECT_ROOT / "build" / "spacy-en"
DEMO_CREDENTIALS = PROJECT_ROOT / "var" / "demo-users.txt"


def cmd_build_spacy(args) -> int:
    """Build the spaCy pipeline folder Rasa loads (skipped if present unless --force)."""
    from assistant.nlp import build_to_disk

    out = Path(args.out)
    if (out / "meta.json").exists() and not args.force:
        print(f"spaCy pipeline already built at {out}")
        return 0
    build_to_disk(out)
    print(f"spaCy pipeline built at {out}")
    return 0


def cmd_nlu(args) -> int:
    """Generate nlu_data/faq.yml from content/faqs.yml (``--check``: fail if out of date)."""
    from assistant.content import load_faq_file, render_nlu

    text = render_nlu(load_faq_file(get_settings().content_dir / "faqs.yml"))
    current = NLU_FILE.read_text(encoding="utf-8") if NLU_FILE.exists() else ""
    if args.check:
        if current != text:
            print("nlu_data/faq.yml is out of date: run `make nlu`", file=sys.stderr)
            return 1
        print("nlu_data/faq.yml is up to date")
        return 0
    if current != text:
        NLU_FILE.write_text(text, encoding="utf-8")
        print("wrote nlu_data/faq.yml")
    return 0


def cmd_db_upgrade(args) -> int:
    """Apply database migrations."""
    from assistant.migrations import upgrade

    upgrade(get_settings().database_url)
    print("database is at the latest schema")
    return 0


def cmd_content_load(args) -> int:
    """Load content/ (FAQs, reflection sets) into the database (existing FAQs kept unless --overwrite)."""
    from assistant.content import ContentError, load_faq_file, seed_faqs
    from assistant.db import session_scope
    from assistant.seed import seed_content

    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            if args.file:
                counts = seed_faqs(load_faq_file(Path(args.file)), session=session, overwrite=args.overwrite)
            else:
                counts = seed_content(settings.content_dir, session=session, overwrite=args.overwrite)
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 1
    print("Content: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def cmd_content_export(args) -> int:
    """Export the FAQs in the database to a content file (default: content/faqs.yml)."""
    from assistant.content import dump_yaml, export_faqs
    from assistant.db import session_scope

    settings = get_settings()
    out = Path(args.out) if args.out else settings.content_dir / "faqs.yml"
    with session_scope(settings.database_url) as session:
        data = export_faqs(session=session)
    header = "# FAQ content exported from the database by `python -m assistant content export`.\n"
    out.write_text(header + dump_yaml(data), encoding="utf-8")
    print(f"exported {len(data)} FAQs to {out}")
    return 0


def cmd_users_create(args) -> int:
    """Create an account; the password is read from stdin (--password-stdin) or prompted."""
    from assistant.db import session_scope
    from assistant.users import UserError, create_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            print("passwords do not match", file=sys.stderr)
            return 1
    try:
        with session_scope(get_settings().database_url) as session:
            user = create_user(
                username=args.username, password=password, role=args.role,
                display_name=args.display_name, manager_username=args.manager, session=session,
            )
            print(f"created {user.role} {user.username} (id {user.id})")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


DEMO_USERS = [
    # username, display name, role, manager
    ("mgr.demo", "Demo Manager", "manager", None),
    ("po.demo", "Demo Practitioner", "practitioner", "mgr.demo"),
    ("po2.demo", "Second Demo Practitioner", "practitioner", "mgr.demo"),
    ("team.demo", "Demo Programme Team", "programme", None),
    ("admin.demo", "Demo Administrator", "admin", None),
]


def cmd_demo_users(args) -> int:
    """Dev only: create synthetic demo users (once) and print their credentials."""
    from assistant.db import session_scope
    from assistant.users import create_user, get_user_by_username

    settings = get_settings()
    if not settings.is_dev:
        print("demo users are only created in dev (ASSISTANT_ENV=dev)", file=sys.stderr)
        return 1
    DEMO_CREDENTIALS.parent.mkdir(parents=True, exist_ok=True)
    saved = {}
    if DEMO_CREDENTIALS.exists():
        for line in DEMO_CREDENTIALS.read_text().splitlines():
            if line.count(" ") >= 2:
                role, username, password = line.split(" ", 2)
                saved[username] = password
    lines = []
    with session_scope(settings.database_url) as session:
        for username, name, role, manager in DEMO_USERS:
            password = saved.get(username)
            if get_user_by_username(username, session=session) is None:
                password = secrets.token_urlsafe(9)
                create_user(username=username, password=password, role=role, display_name=name,
                            manager_username=manager, session=session)
            lines.append(f"{role} {username} {password or '(set earlier; see var/demo-users.txt)'}")
    DEMO_CREDENTIALS.write_text("\n".join(lines) + "\n")
    os.chmod(DEMO_CREDENTIALS, 0o600)
    print("Demo users (synthetic, dev only): role username password")
    for line in lines:
        print("  " + line)
    return 0

