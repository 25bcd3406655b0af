"""`TenantView`: a read-only view of a tenant of the backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect.backend._query import query_rows
from prefect.utilities.graphql import with_args

__all__ = ["TenantView"]


@dataclass(frozen=True)
class TenantView:
    """A tenant: its id, name and URL slug.

    Args:
        tenant_id: the tenant's id.
        name: its display name.
        slug: its URL slug (used in UI links).
    """

    tenant_id: str
    name: str
    slug: str

    @classmethod
    def _from_tenant_data(cls, tenant_data: dict) -> TenantView:
        return cls(tenant_id=tenant_data["id"], name=tenant_data["name"], slug=tenant_data["slug"])

    @classmethod
    def from_tenant_id(cls, tenant_id: str) -> TenantView:
        """Look a tenant up by id.

        Args:
            tenant_id: the tenant's id.

        Raises:
            ValueError: no tenant (or more than one) has that id.
        """
        return cls._from_tenant_data(cls._query_for_tenant(where={"id": {"_eq": tenant_id}}))

    @classmethod
    def from_current_tenant(cls) -> TenantView:
        """The tenant `prefect.Client` acts in (on Prefect Server: the first tenant)."""
        import prefect

        return cls.from_tenant_id(prefect.Client().tenant_id)

    @staticmethod
    def _query_for_tenant(where: dict) -> dict:
        tenants = TenantView._query_for_tenants(where)
        if len(tenants) > 1:
            raise ValueError(f"Found {len(tenants)} tenants where {where!r}; expected exactly one.")
        return tenants[0]

    @staticmethod
    def _query_for_tenants(where: dict) -> list[dict[str, Any]]:
        query = {"query": {with_args("tenant", {"where": where}): ("id", "slug", "name")}}
        tenants = query_rows(query, "tenant")
        if tenants is None:
            raise ValueError(f"The backend gave no tenant list for the query where {where!r}.")
        if not tenants:
            raise ValueError(f"No tenant found where {where!r}.")
        return tenants
