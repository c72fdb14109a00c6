"""Request bodies of the identity API (shapes only; the domain validates the values)."""

from __future__ import annotations

from typing import Any

import msgspec


class SignupIn(msgspec.Struct, forbid_unknown_fields=True):
    tenant_name: str
    name: str
    email: str
    password: str


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    password: str


class RefreshIn(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: str


class PasswordResetIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    token: str


class MfaCodeIn(msgspec.Struct, forbid_unknown_fields=True):
    code: str


class MfaChallengeIn(msgspec.Struct, forbid_unknown_fields=True):
    challenge: str


class MfaLoginIn(msgspec.Struct, forbid_unknown_fields=True):
    challenge: str
    code: str


class TenantMfaIn(msgspec.Struct, forbid_unknown_fields=True):
    required: bool


class PasswordResetConfirmIn(msgspec.Struct, forbid_unknown_fields=True):
    token: str
    password: str


class ProfilePatch(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    locale: str | None = None  # "pt_BR" | "en"


class PasswordChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    current_password: str
    new_password: str


class InviteIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    name: str
    role: str
    customer_id: str | None = None


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    role: str | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    customer_id: str | msgspec.UnsetType = msgspec.UNSET

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__struct_fields__
                if getattr(self, name) is not msgspec.UNSET}


class ApiKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    scopes: list[str]
