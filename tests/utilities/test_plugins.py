from __future__ import annotations

import pytest
from box import Box

import prefect
from prefect.utilities import plugins
from prefect.utilities.plugins import (
    API,
    MODELS,
    PLUGINS,
    REGISTRY,
    register_api,
    register_model,
    register_plugin,
)


@pytest.fixture(autouse=True)
def clean_registries():
    """Registries are process-wide: drop whatever a test registers."""
    before = {name: set(REGISTRY[name]) for name in ("api", "models", "plugins")}
    yield
    for name, keys in before.items():
        for key in set(REGISTRY[name]) - keys:
            del REGISTRY[name][key]


def test_registries_are_boxes_inside_one_registry():
    assert isinstance(REGISTRY, Box)
    assert API is REGISTRY.api
    assert MODELS is REGISTRY.models
    assert PLUGINS is REGISTRY.plugins


def test_top_level_names_are_the_registries():
    assert prefect.api is API
    assert prefect.models is MODELS
    assert prefect.plugins is PLUGINS


@pytest.mark.parametrize(
    ("register", "registry"),
    [(register_api, API), (register_model, MODELS), (register_plugin, PLUGINS)],
)
def test_decorator_stores_the_object_at_its_dotted_name_and_returns_it(register, registry):
    def create_thing():
        return "created"

    assert register("tests_things.create")(create_thing) is create_thing
    assert registry.tests_things.create is create_thing
    assert isinstance(registry.tests_things, Box)


def test_names_sharing_a_prefix_live_side_by_side():
    register_api("tests_flows.create")(len)
    register_api("tests_flows.runs.delete")(max)
    assert API.tests_flows.create is len
    assert API.tests_flows.runs.delete is max


def test_registering_a_taken_name_fails_and_keeps_the_first_object():
    register_plugin("tests_storage.Custom")(int)
    with pytest.raises(ValueError, match="'tests_storage.Custom' is already registered"):
        register_plugin("tests_storage.Custom")(str)
    assert PLUGINS.tests_storage.Custom is int


def test_a_registered_object_cannot_also_be_a_namespace():
    register_model("tests_leaf")(dict)
    with pytest.raises(ValueError, match="'tests_leaf' is already registered"):
        register_model("tests_leaf.child")(list)
    assert MODELS.tests_leaf is dict


@pytest.mark.parametrize("name", ["", "a..b", ".a", "a."])
def test_malformed_names_are_rejected_before_decorating(name):
    with pytest.raises(ValueError, match="Invalid API name"):
        register_api(name)


def test_the_same_name_in_different_registries_does_not_clash():
    register_api("tests_shared")(min)
    register_model("tests_shared")(max)
    assert (API.tests_shared, MODELS.tests_shared) == (min, max)
    assert plugins.REGISTRY.api.tests_shared is min
