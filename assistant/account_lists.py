"""Reading accounts for administrators: search and page through them, and the account changes
in the audit log (``*, session``; read only)."""
from __future__ import annotations

from typing import List, Optional, Tuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from assistant.accounts import AccountInvalid
from assistant.models import ROLES, AuditEntry, User

MAX_PER_PAGE = 100


def _one_page(stmt: Select, page: int, per_page: int, *, session: Session) -> Tuple[list, int]:
    """Page ``page`` of ``stmt``'s rows (at most MAX_PER_PAGE a page) and how many rows in all."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    rows = session.scalars(stmt.offset((max(page, 1) - 1) * per_page).limit(per_page))
    return list(rows), total


def list_accounts(*, query: str = "", role: Optional[str] = None, active: Optional[bool] = None,
                  page: int = 1, per_page: int = 25, session: Session) -> Tuple[List[User], int]:
    """Accounts whose username or display name contains ``query`` (any case), of ``role`` and
    with ``active`` if given, by display name: (one page of them, how many match in all)."""
    if role is not None and role not in ROLES:
        raise AccountInvalid(f"role must be one of {', '.join(ROLES)}")
    stmt = select(User)
    if query.strip():
        # LIKE's own wildcards in the search are literal text
        like = "%" + query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(func.lower(User.username).like(like, escape="\\"),
                              func.lower(User.display_name).like(like, escape="\\")))
    if role is not None:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    return _one_page(stmt.order_by(func.lower(User.display_name), User.id), page, per_page, session=session)


def account_audit(*, page: int = 1, per_page: int = 50, session: Session) -> Tuple[List[AuditEntry], int]:
    """The account changes in the audit log, newest first: (one page, how many in all)."""
    stmt = select(AuditEntry).where(AuditEntry.action.like("account.%")).order_by(AuditEntry.id.desc())
    return _one_page(stmt, page, per_page, session=session)
