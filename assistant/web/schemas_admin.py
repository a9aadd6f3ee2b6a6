"""Request and response schemas of the user-administration and password API (see
assistant.web.schemas for the conventions: :class:`RequestModel` bodies, bounded ids)."""
from __future__ import annotations

from typing import List, Optional

from pydantic import BaseModel, Field, StrictBool, StrictStr

from assistant.models import ROLES
from assistant.web.schemas import Id, RequestModel

ROLE_PATTERN = "^(" + "|".join(ROLES) + ")$"
METHOD_PATTERN = r"^(link|temporary)$"


class AccountIn(RequestModel):
    """A new account: the rules (username pattern, manager) are the domain's (assistant.accounts)."""

    username: StrictStr = Field(..., min_length=1, max_length=64)
    display_name: Optional[StrictStr] = Field(None, max_length=120)
    role: StrictStr = Field(..., regex=ROLE_PATTERN)
    manager_id: Optional[Id] = None
    method: StrictStr = Field("link", regex=METHOD_PATTERN)


class RoleIn(RequestModel):
    role: StrictStr = Field(..., regex=ROLE_PATTERN)


class ManagerIn(RequestModel):
    manager_id: Optional[Id] = None  # null: no line manager


class DeactivateIn(RequestModel):
    # the user was offered the download of their own reflections first (needed if they have any)
    export_offered: StrictBool = False


class ResetIn(RequestModel):
    method: StrictStr = Field("link", regex=METHOD_PATTERN)


class OwnPasswordIn(RequestModel):
    current_password: StrictStr = Field(..., max_length=1000)
    new_password: StrictStr = Field(..., max_length=1000)


class LinkPasswordIn(RequestModel):
    token: StrictStr = Field(..., max_length=200)
    new_password: StrictStr = Field(..., max_length=1000)


class AccountOut(BaseModel):
    """An account as administrators see it: never a password hash or reset token."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    manager_id: Optional[int]
    manager_name: Optional[str]
    must_change_password: bool
    created_at: str
    sso_id: Optional[str] = None  # the single sign-on identifier it is linked to (assistant.sso)


class CredentialOut(BaseModel):
    """Shown once, for the administrator to hand on: a link path or a temporary password."""

    method: str
    link_path: Optional[str] = None
    temporary_password: Optional[str] = None
    expires_at: Optional[str] = None


class CreatedOut(BaseModel):
    account: AccountOut
    credential: CredentialOut


class AccountPage(BaseModel):
    accounts: List[AccountOut]
    total: int
    page: int
    per_page: int
