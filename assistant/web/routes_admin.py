"""User administration (the ``admin`` role only) and passwords (any logged-in user; a one-time
link without logging in). The rules are assistant.accounts'; every change is audited there."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from assistant import account_lists, accounts, own_password
from assistant.config import Settings
from assistant.models import User
from assistant.login import LoginLimits
from assistant.web.deps import COOKIE_NAME, current_user, get_db, get_settings_dep, require_role
from assistant.web.routes_auth import client_address
from assistant.web.schemas import MAX_ID, ResourceId
from assistant.web.schemas_admin import (
    ROLE_PATTERN, AccountIn, AccountOut, AccountPage, CreatedOut, CredentialOut, DeactivateIn,
    LinkPasswordIn, ManagerIn, OwnPasswordIn, ResetIn, RoleIn,
)

router = APIRouter(prefix="/api")
admin_only = require_role("admin")
# a page number times the page size stays a valid offset on every backend
MAX_PAGE = MAX_ID // account_lists.MAX_PER_PAGE


def account_out(user: User) -> AccountOut:
    """An account for the admin pages."""
    return AccountOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                      active=user.active, manager_id=user.manager_id,
                      manager_name=user.manager.display_name if user.manager else None,
                      must_change_password=user.must_change_password, created_at=user.created_at.isoformat(),
                      sso_id=user.sso_id)


def credential_out(credential: accounts.Credential) -> CredentialOut:
    """The one-time credential, shown once."""
    return CredentialOut(
        method=credential.method, link_path=credential.link_path,
        temporary_password=credential.secret if credential.method == "temporary" else None,
        expires_at=credential.expires_at.isoformat() if credential.expires_at else None)


@router.get("/admin/users", response_model=AccountPage)
def list_users(q: str = Query("", max_length=200), role: Optional[str] = Query(None, regex=ROLE_PATTERN),
               active: Optional[bool] = None, page: int = Query(1, ge=1, le=MAX_PAGE),
               per_page: int = Query(25, ge=1, le=account_lists.MAX_PER_PAGE),
               user: User = Depends(admin_only), db: Session = Depends(get_db)) -> AccountPage:
    """Accounts by display name: search username and display name, filter by role and status."""
    rows, total = account_lists.list_accounts(query=q, role=role, active=active, page=page,
                                              per_page=per_page, session=db)
    return AccountPage(accounts=[account_out(u) for u in rows], total=total, page=page, per_page=per_page)


@router.post("/admin/users", response_model=CreatedOut, status_code=201)
def create_user(body: AccountIn, user: User = Depends(admin_only), db: Session = Depends(get_db)) -> CreatedOut:
    """Create an account; the response holds its one-time link or temporary password (shown once)."""
    new, credential = accounts.create_account(actor=user, username=body.username, display_name=body.display_name,
                                              role=body.role, manager_id=body.manager_id, method=body.method,
                                              session=db)
    db.commit()
    return CreatedOut(account=account_out(new), credential=credential_out(credential))


@router.get("/admin/users/{user_id}")
def get_user(user_id: ResourceId, user: User = Depends(admin_only), db: Session = Depends(get_db),
             settings: Settings = Depends(get_settings_dep)) -> dict:
    """One account, with how many reflections they hold and how long they are kept (no content)."""
    account = accounts.get_account(user_id, session=db)
    held = accounts.reflection_summary(account.id, retention_days=settings.retention_days, session=db)
    return {"account": account_out(account).dict(),
            "reflections": {"count": held["count"],
                            "kept_until": held["kept_until"].isoformat() if held["kept_until"] else None,
                            "export_path": accounts.OWN_EXPORT_PATH}}


@router.post("/admin/users/{user_id}/role", response_model=AccountOut)
def set_role(user_id: ResourceId, body: RoleIn, user: User = Depends(admin_only),
             db: Session = Depends(get_db)) -> AccountOut:
    """Change an account's role."""
    account = accounts.set_role(user_id, body.role, actor=user, session=db)
    db.commit()
    return account_out(account)


@router.post("/admin/users/{user_id}/manager", response_model=AccountOut)
def set_manager(user_id: ResourceId, body: ManagerIn, user: User = Depends(admin_only),
                db: Session = Depends(get_db)) -> AccountOut:
    """Change or remove an account's line manager (an active manager)."""
    account = accounts.set_manager(user_id, body.manager_id, actor=user, session=db)
    db.commit()
    return account_out(account)


@router.post("/admin/users/{user_id}/deactivate", response_model=AccountOut)
def deactivate(user_id: ResourceId, body: DeactivateIn, user: User = Depends(admin_only),
               db: Session = Depends(get_db), settings: Settings = Depends(get_settings_dep)) -> AccountOut:
    """Deactivate an account: their sessions end now. 409 ``export_first`` if they hold
    reflections and ``export_offered`` is not set (they alone may download them)."""
    account = accounts.deactivate(user_id, actor=user, export_offered=body.export_offered,
                                  retention_days=settings.retention_days, session=db)
    db.commit()
    return account_out(account)


@router.post("/admin/users/{user_id}/reactivate", response_model=AccountOut)
def reactivate(user_id: ResourceId, user: User = Depends(admin_only), db: Session = Depends(get_db)) -> AccountOut:
    """Let a deactivated account log in again."""
    account = accounts.reactivate(user_id, actor=user, session=db)
    db.commit()
    return account_out(account)


@router.post("/admin/users/{user_id}/password-reset", response_model=CredentialOut)
def reset_password(user_id: ResourceId, body: ResetIn, user: User = Depends(admin_only),
                   db: Session = Depends(get_db)) -> CredentialOut:
    """Replace a password by a one-time link or a temporary one (shown once); their sessions end."""
    credential = accounts.reset_password(user_id, body.method, actor=user, session=db)
    db.commit()
    return credential_out(credential)


@router.get("/admin/audit")
def audit_log(page: int = Query(1, ge=1, le=MAX_PAGE), user: User = Depends(admin_only),
              db: Session = Depends(get_db)) -> dict:
    """Account changes, newest first: who, when, what."""
    rows, total = account_lists.account_audit(page=page, session=db)
    return {"total": total, "page": page,
            "entries": [{"id": e.id, "action": e.action, "target": e.target, "by_user_id": e.user_id,
                         "at": e.created_at.isoformat(), "detail": e.detail} for e in rows]}


@router.get("/me/password")
def password_status(user: User = Depends(current_user)) -> dict:
    """Whether the logged-in user must change a temporary password before anything else."""
    return {"must_change_password": user.must_change_password}


@router.post("/me/password")
def change_password(body: OwnPasswordIn, request: Request, user: User = Depends(current_user),
                    db: Session = Depends(get_db), settings: Settings = Depends(get_settings_dep)) -> dict:
    """Change your own password (current and new); your other sessions end."""
    try:
        own_password.change_own_password(user, body.current_password, body.new_password,
                                         address=client_address(request, settings),
                                         limits=LoginLimits.from_settings(settings),
                                         keep_token=request.cookies.get(COOKIE_NAME), session=db)
    except accounts.AccountError:
        db.commit()  # a wrong current password counts like a failed login
        raise
    db.commit()
    return {"ok": True}


@router.post("/password/reset")
def redeem_link(body: LinkPasswordIn, db: Session = Depends(get_db)) -> dict:
    """Set a password with a one-time link's token (no login): once, before it expires."""
    own_password.redeem_link(body.token, body.new_password, session=db)
    db.commit()
    return {"ok": True}
