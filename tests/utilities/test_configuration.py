"""set_temporary_config: dotted keys, new sections, full restore, context reflects it."""

from __future__ import annotations

import datetime

import pytest

from prefect.configuration import Config, config
from prefect.utilities.configuration import set_temporary_config
from prefect.utilities.context import context


def test_sets_top_level_and_dotted_keys():
    with set_temporary_config({"debug": "yes", "cloud.api_key": "abc", "logging.level": "DEBUG"}):
        assert config.debug == "yes"
        assert config.cloud.api_key == "abc"
        assert config.logging.level == "DEBUG"
    assert config.cloud.api_key != "abc"
    assert config.logging.level != "DEBUG"


def test_yields_the_global_config():
    with set_temporary_config({"debug": True}) as cfg:
        assert cfg is config


def test_creates_missing_sections_and_removes_them_afterwards():
    with set_temporary_config({"brand.new.key": 1}):
        assert config.brand.new.key == 1
        assert isinstance(config.brand.new, Config)
    assert "brand" not in config


def test_replaces_a_non_table_value_on_the_path():
    original = config.debug
    with set_temporary_config({"debug.nested": 1}):
        assert config.debug.nested == 1
    assert config.debug == original


def test_restores_everything_including_keys_changed_directly_inside():
    before = config.to_dict()
    with set_temporary_config({"flows.checkpointing": True}):
        config.cloud.request_timeout = 999
        config.extra = "x"
        del config.logging["level"]
    assert config.to_dict() == before


def test_restores_when_the_block_raises():
    before = config.to_dict()
    with pytest.raises(RuntimeError):
        with set_temporary_config({"cloud.api": "http://elsewhere"}):
            raise RuntimeError("boom")
    assert config.to_dict() == before


def test_config_and_its_sections_stay_the_same_objects():
    cloud = config.cloud
    agent = config.cloud.agent
    with set_temporary_config({"cloud.agent.name": "temporary", "cloud.api_key": "k"}):
        assert config.cloud is cloud
        assert cloud.agent.name == "temporary"
    assert config.cloud is cloud
    assert config.cloud.agent is agent
    assert agent.name == "agent"
    assert cloud.api_key == ""


def test_context_config_reflects_the_change_inside():
    with set_temporary_config({"cloud.api_key": "in-context"}):
        assert context.config.cloud.api_key == "in-context"
    assert context.config.cloud.api_key == ""


def test_context_config_merges_over_a_config_set_in_the_context():
    with context(config={"only_in_context": 1}):
        with set_temporary_config({"cloud.api_key": "k"}):
            assert context.config.cloud.api_key == "k"
            assert context.config.only_in_context == 1
        assert context.config.cloud.api_key == ""


def test_nested_temporary_configs_unwind_in_order():
    with set_temporary_config({"tasks.defaults.max_retries": 1}):
        with set_temporary_config({"tasks.defaults.max_retries": 2, "x.y": 1}):
            assert config.tasks.defaults.max_retries == 2
        assert config.tasks.defaults.max_retries == 1
        assert "x" not in config
    assert config.tasks.defaults.max_retries == 0


def test_values_are_stored_as_given():
    delay = datetime.timedelta(seconds=3)
    with set_temporary_config({"tasks.defaults.retry_delay": delay, "t.d": {"k": 1}}):
        assert config.tasks.defaults.retry_delay is delay
        assert config.t.d.k == 1
