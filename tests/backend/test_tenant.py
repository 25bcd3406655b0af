"""`TenantView` against the test server."""

from __future__ import annotations

import pytest

import prefect
from prefect.backend import TenantView


def test_current_tenant_is_the_default_one(prefect_server):
    tenant = TenantView.from_current_tenant()
    assert tenant.slug == "default"
    assert tenant.name == "default"
    assert tenant.tenant_id == prefect.Client().tenant_id
    assert TenantView.from_tenant_id(tenant.tenant_id) == tenant


def test_lookup_by_id_of_another_tenant(prefect_server):
    tenant_id = prefect.Client().create_tenant("Second Tenant")
    tenant = TenantView.from_tenant_id(tenant_id)
    assert tenant == TenantView(tenant_id=tenant_id, name="Second Tenant", slug="second-tenant")
    with pytest.raises(ValueError, match="No tenant found"):
        TenantView.from_tenant_id("00000000-0000-0000-0000-000000000000")
