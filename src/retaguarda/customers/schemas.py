"""Request bodies of the customers API (validated in the domain; here only shapes)."""

from __future__ import annotations

from typing import Any

import msgspec


class AddressIn(msgspec.Struct, forbid_unknown_fields=True):
    street: str = ""
    number: str = ""
    complement: str = ""
    district: str = ""
    city: str = ""
    uf: str = ""
    cep: str = ""
    ibge_code: str = ""


class CustomerIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    kind: str
    document: str
    email: str
    phones: list[str] = []
    address: AddressIn | None = None
    plan: str = ""
    notes: str = ""


class CustomerPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None | msgspec.UnsetType = msgspec.UNSET
    kind: str | None | msgspec.UnsetType = msgspec.UNSET
    document: str | None | msgspec.UnsetType = msgspec.UNSET
    email: str | None | msgspec.UnsetType = msgspec.UNSET
    phones: list[str] | None | msgspec.UnsetType = msgspec.UNSET
    address: AddressIn | None | msgspec.UnsetType = msgspec.UNSET
    plan: str | None | msgspec.UnsetType = msgspec.UNSET
    notes: str | None | msgspec.UnsetType = msgspec.UNSET
    radius_username: str | None | msgspec.UnsetType = msgspec.UNSET

    def changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is msgspec.UNSET:
                continue
            if isinstance(value, AddressIn):
                value = msgspec.structs.asdict(value)
            out[name] = value
        return out


class StatusChange(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


def to_fields(body: CustomerIn) -> dict[str, Any]:
    data = msgspec.structs.asdict(body)
    if body.address is not None:
        data["address"] = msgspec.structs.asdict(body.address)
    return data
