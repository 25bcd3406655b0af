from __future__ import annotations

from prefect.run_configs import VertexRun


def test_defaults():
    config = VertexRun()
    assert config.machine_type == "e2-standard-4"
    for attr in ("image", "scheduling", "service_account", "network", "worker_pool_specs"):
        assert getattr(config, attr) is None, attr
    assert config.labels == set()


def test_all_arguments_are_stored():
    specs = [{"machine_spec": {"machine_type": "n1"}, "replica_count": 1}]
    config = VertexRun(
        env={"A": "1"},
        labels=["vertex"],
        image="img",
        machine_type="n1-standard-8",
        scheduling={"timeout": "60s"},
        service_account="sa@x",
        network="net",
        worker_pool_specs=specs,
    )
    assert config.image == "img"
    assert config.machine_type == "n1-standard-8"
    assert config.scheduling == {"timeout": "60s"}
    assert config.service_account == "sa@x"
    assert config.network == "net"
    assert config.worker_pool_specs == specs
