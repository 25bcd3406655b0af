"""prefect.configuration: defaults, load order, env overrides, interpolation, validation."""

from __future__ import annotations

import copy
import datetime
import os
import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefect.configuration as configuration
from prefect.configuration import (
    DEFAULT_CONFIG,
    ENV_VAR_PREFIX,
    INTERPOLATION_REGEX,
    Config,
    create_user_config,
    interpolate_config,
    interpolate_env_vars,
    load_configuration,
    load_default_config,
    load_toml,
    process_task_defaults,
    string_to_type,
    to_environment_variables,
    validate_config,
)
from prefect.utilities.collections import dict_to_flatdict


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh home directory (what `~` expands to) with no PREFECT__ variables set."""
    home = tmp_path / "user-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith("PREFECT__"):
            monkeypatch.delenv(name)
    return str(home)


@pytest.fixture
def write_toml(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def get(cfg, dotted):
    value = cfg
    for part in dotted.split("."):
        value = value[part]
    return value


# ---------------------------------------------------------------- defaults


RAW_DEFAULTS = {
    "debug": False,
    "server.host": "http://localhost",
    "server.port": 4200,
    "server.host_port": 4200,
    "server.host_ip": "127.0.0.1",
    "server.endpoint": "http://localhost:4200",
    "server.database.host": "localhost",
    "server.database.port": 5432,
    "server.database.host_port": 5432,
    "server.database.name": "prefect_server",
    "server.database.username": "prefect",
    "server.database.password": "test-password",
    "server.graphql.host": "0.0.0.0",
    "server.graphql.port": 4201,
    "server.graphql.host_port": 4201,
    "server.graphql.debug": False,
    "server.graphql.path": "/graphql/",
    "server.hasura.host": "localhost",
    "server.hasura.port": 3000,
    "server.hasura.host_port": 3000,
    "server.hasura.admin_secret": "",
    "server.hasura.claims_namespace": "hasura-claims",
    "server.hasura.graphql_url": "http://localhost:3000/v1alpha1/graphql",
    "server.hasura.ws_url": "ws://localhost:3000/v1alpha1/graphql",
    "server.hasura.execute_retry_seconds": 10,
    "server.ui.host": "http://localhost",
    "server.ui.port": 8080,
    "server.ui.host_port": 8080,
    "server.ui.host_ip": "127.0.0.1",
    "server.ui.endpoint": "http://localhost:8080",
    "server.ui.apollo_url": "http://localhost:4200/graphql",
    "server.telemetry.enabled": True,
    "cloud.endpoint": "https://api.prefect.io",
    "cloud.use_local_secrets": True,
    "cloud.heartbeat_interval": 30.0,
    "cloud.heartbeat_mode": "process",
    "cloud.check_cancellation_interval": 15.0,
    "cloud.diagnostics": False,
    "cloud.request_timeout": 15,
    "cloud.send_flow_run_logs": True,
    "cloud.logging_heartbeat": 5,
    "cloud.queue_interval": 30.0,
    "cloud.api_key": "",
    "cloud.tenant_id": "",
    "cloud.agent.name": "agent",
    "cloud.agent.labels": [],
    "cloud.agent.level": "INFO",
    "cloud.agent.auth_token": "",
    "cloud.agent.agent_address": "",
    "cloud.agent.kubernetes_keep_alive": False,
    "cloud.agent.resource_manager.loop_interval": 60,
    "cloud.rate_limiting.backoff_s": 180,
    "cloud.rate_limiting.backoff_multiplier": 10,
    "cloud.rate_limiting.backoff_exponent": 2,
    "cloud.rate_limiting.max_retries": 6,
    "logging.level": "INFO",
    "logging.format": "[%(asctime)s] %(levelname)s - %(name)s | %(message)s",
    "logging.log_attributes": [],
    "logging.datefmt": "%Y-%m-%d %H:%M:%S%z",
    "logging.extra_loggers": [],
    "flows.eager_edge_validation": False,
    "flows.run_on_schedule": True,
    "flows.checkpointing": False,
    "flows.defaults.storage.add_default_labels": True,
    "flows.defaults.storage.default_class": "prefect.storage.Local",
    "tasks.defaults.max_retries": 0,
    "tasks.defaults.retry_delay": None,
    "tasks.defaults.timeout": None,
    "engine.executor.default_class": "prefect.executors.LocalExecutor",
    "engine.executor.dask.address": "",
    "engine.executor.dask.cluster_class": "distributed.deploy.local.LocalCluster",
    "engine.flow_runner.default_class": "prefect.engine.flow_runner.FlowRunner",
    "engine.task_runner.default_class": "prefect.engine.task_runner.TaskRunner",
}


class TestDefaults:
    @pytest.mark.parametrize("key, expected", RAW_DEFAULTS.items(), ids=list(RAW_DEFAULTS))
    def test_default_value_after_loading(self, home, key, expected):
        value = get(load_configuration(DEFAULT_CONFIG), key)
        assert value == expected
        assert type(value) is type(expected) or isinstance(value, list)

    def test_home_dir_expands_the_user_directory(self, home):
        assert load_configuration(DEFAULT_CONFIG).home_dir == os.path.join(home, ".prefect")

    def test_volume_path_refers_to_home_dir(self, home):
        cfg = load_configuration(DEFAULT_CONFIG)
        assert cfg.server.database.volume_path == os.path.join(home, ".prefect", "pg_data")

    def test_no_other_keys_than_documented(self, home):
        flat = {".".join(k) for k in dict_to_flatdict(load_configuration(DEFAULT_CONFIG))}
        expected = set(RAW_DEFAULTS) | {
            "home_dir",
            "backend",
            "cloud.api",
            "cloud.graphql",
            "server.database.connection_url",
            "server.database.volume_path",
        }
        # Our server's own keys (ARCHITECTURE.md: timers and limits 1.4.1 hard-coded).
        ours = {key for key in flat if key.startswith(("server.api.", "server.services."))}
        ours |= {"cloud.agent.poll_interval_min", "cloud.agent.poll_interval_max"}
        assert ours >= {
            "server.api.version_locking",
            "server.api.submitted_lock_seconds",
            "server.services.lazarus.heartbeat_cutoff_seconds",
            "server.services.zombie_killer.heartbeat_cutoff_seconds",
            "server.services.scheduler.max_scheduled_runs_per_flow",
        }
        assert flat - ours == expected

    def test_backend_defaults_to_server(self, home):
        # Deviation from 1.4.1 ("cloud"): our own server is the backend.
        assert load_configuration(DEFAULT_CONFIG).backend == "server"

    def test_cloud_api_follows_the_server_endpoint_by_default(self, home):
        cfg = load_configuration(DEFAULT_CONFIG)
        assert cfg.cloud.api == "http://localhost:4200"
        assert cfg.cloud.graphql == "http://localhost:4200/graphql"

    def test_database_defaults_to_sqlite_in_home_dir(self, home):
        # Deviation from 1.4.1 (a PostgreSQL URL).
        url = load_configuration(DEFAULT_CONFIG).server.database.connection_url
        assert url == "sqlite:///" + os.path.join(home, ".prefect", "server.db")

    def test_loaded_config_and_sections_are_configs(self, home):
        cfg = load_configuration(DEFAULT_CONFIG)
        assert isinstance(cfg, Config)
        assert isinstance(cfg.server.database, Config)

    def test_default_file_is_packaged_next_to_the_module(self):
        assert DEFAULT_CONFIG == os.path.join(
            os.path.dirname(configuration.__file__), "config.toml"
        )
        assert os.path.isfile(DEFAULT_CONFIG)


class TestModule:
    def test_constants(self):
        assert ENV_VAR_PREFIX == "PREFECT"
        assert INTERPOLATION_REGEX.pattern == r"\${(.[^${}]*)}"
        assert configuration.USER_CONFIG == os.getenv(
            "PREFECT__USER_CONFIG_PATH", "~/.prefect/config.toml"
        )
        assert configuration.BACKEND_CONFIG == os.getenv(
            "PREFECT__BACKEND_CONFIG_PATH", "~/.prefect/backend.toml"
        )

    def test_interpolation_regex_matches_the_innermost_reference(self):
        assert INTERPOLATION_REGEX.search("${${backend}.endpoint}").group(1) == "backend"

    def test_prefect_config_is_the_module_config(self):
        import prefect

        assert prefect.config is configuration.config
        assert isinstance(configuration.config, Config)

    def test_load_default_config_reads_the_module_paths(self, home, write_toml, monkeypatch):
        monkeypatch.setattr(configuration, "USER_CONFIG", write_toml("u.toml", "debug = true"))
        monkeypatch.setattr(
            configuration, "BACKEND_CONFIG", write_toml("b.toml", 'backend = "cloud"')
        )
        monkeypatch.setenv("PREFECT__LOGGING__LEVEL", "DEBUG")
        cfg = load_default_config()
        assert (cfg.debug, cfg.backend, cfg.logging.level) == (True, "cloud", "DEBUG")


# ---------------------------------------------------------------- load order


class TestLoadOrder:
    def test_user_file_overrides_defaults_and_merges_tables(self, home, write_toml):
        user = write_toml("user.toml", "[logging]\nlevel = 'DEBUG'\n[new]\nkey = 1\n")
        cfg = load_configuration(DEFAULT_CONFIG, user_config_path=user)
        assert cfg.logging.level == "DEBUG"
        assert cfg.logging.datefmt == "%Y-%m-%d %H:%M:%S%z"
        assert cfg.new.key == 1

    def test_backend_file_overrides_the_user_file(self, home, write_toml):
        user = write_toml("user.toml", 'backend = "server"\n[cloud]\napi_key = "k"\n')
        backend = write_toml("backend.toml", 'backend = "cloud"\n')
        cfg = load_configuration(DEFAULT_CONFIG, user, backend)
        assert cfg.backend == "cloud"
        assert cfg.cloud.api_key == "k"
        assert cfg.cloud.api == "https://api.prefect.io"
        assert cfg.cloud.graphql == "https://api.prefect.io/graphql"

    def test_environment_overrides_both_files(self, home, write_toml, monkeypatch):
        user = write_toml("user.toml", "[logging]\nlevel = 'DEBUG'\n")
        backend = write_toml("backend.toml", 'backend = "cloud"\n')
        monkeypatch.setenv("PREFECT__LOGGING__LEVEL", "ERROR")
        monkeypatch.setenv("PREFECT__BACKEND", "server")
        cfg = load_configuration(DEFAULT_CONFIG, user, backend, env_var_prefix="PREFECT")
        assert cfg.logging.level == "ERROR"
        assert cfg.backend == "server"

    def test_missing_files_are_ignored(self, home, tmp_path):
        cfg = load_configuration(
            DEFAULT_CONFIG, str(tmp_path / "nope.toml"), str(tmp_path / "nope2.toml")
        )
        assert cfg.backend == "server"

    def test_file_paths_are_expanded(self, home, monkeypatch):
        os.makedirs(os.path.join(home, "cfg"))
        with open(os.path.join(home, "cfg", "user.toml"), "w") as f:
            f.write("debug = true\n")
        monkeypatch.setenv("CFG_DIR", "cfg")
        assert load_configuration(DEFAULT_CONFIG, "~/$CFG_DIR/user.toml").debug is True

    def test_references_see_the_merged_values(self, home, write_toml):
        user = write_toml("user.toml", "home_dir = '/data/prefect'\n[server]\nport = '9000'\n")
        cfg = load_configuration(DEFAULT_CONFIG, user)
        assert cfg.server.database.connection_url == "sqlite:////data/prefect/server.db"
        assert cfg.server.endpoint == "http://localhost:9000"
        assert cfg.cloud.api == "http://localhost:9000"

    def test_invalid_toml_raises(self, home, write_toml):
        user = write_toml("user.toml", "this is = = not toml")
        with pytest.raises(ValueError):
            load_configuration(DEFAULT_CONFIG, user)


# ---------------------------------------------------------------- environment


class TestEnvironmentOverrides:
    @pytest.fixture
    def load(self, home, write_toml):
        base = write_toml("base.toml", "[section]\nkey = 'file'\n[a.b]\nc = 1\n")

        def load(prefix="PREFECT"):
            return load_configuration(base, env_var_prefix=prefix)

        return load

    def test_nested_key_is_set(self, load, monkeypatch):
        monkeypatch.setenv("PREFECT__SECTION__KEY", "env")
        monkeypatch.setenv("PREFECT__A__B__C", "2")
        cfg = load()
        assert cfg.section.key == "env"
        assert cfg.a.b.c == 2

    def test_single_segment_sets_a_top_level_key(self, load, monkeypatch):
        monkeypatch.setenv("PREFECT__DEBUG", "true")
        assert load().debug is True

    def test_path_is_lower_cased(self, load, monkeypatch):
        monkeypatch.setenv("PREFECT__Section__KEY", "env")
        assert load().section.key == "env"

    def test_new_sections_are_created(self, load, monkeypatch):
        monkeypatch.setenv("PREFECT__BRAND__NEW__THING", "x")
        assert load().brand.new.thing == "x"

    def test_user_config_path_variable_shows_up_as_a_key(self, load, monkeypatch):
        monkeypatch.setenv("PREFECT__USER_CONFIG_PATH", "/tmp/whatever.toml")
        assert load().user_config_path == "/tmp/whatever.toml"

    def test_secret_names_keep_their_case(self, load, monkeypatch):
        monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__MY_Secret", "s3cr3t")
        monkeypatch.setenv("PREFECT__Context__Secrets__AWS__Key", "k")
        secrets = load().context.secrets
        assert secrets.MY_Secret == "s3cr3t"
        assert secrets.AWS.Key == "k"
        assert "my_secret" not in secrets

    def test_other_context_keys_are_lower_cased(self, load, monkeypatch):
        monkeypatch.setenv("PREFECT__CONTEXT__MY_FLAG", "1")
        assert load().context.my_flag == 1

    @pytest.mark.parametrize(
        "raw, expected",
        [
            ("1", 1),
            ("1.5", 1.5),
            ("true", True),
            ("FALSE", False),
            ("None", None),
            ("[1, 'a']", [1, "a"]),
            ("{'x': 1}", {"x": 1}),
            ("'42'", "42"),
            ("plain text", "plain text"),
            ("127.0.0.1", "127.0.0.1"),
        ],
    )
    def test_values_are_cast_once(self, load, monkeypatch, raw, expected):
        monkeypatch.setenv("PREFECT__SECTION__KEY", raw)
        assert load().section.key == expected

    def test_values_are_expanded_before_casting(self, load, monkeypatch):
        monkeypatch.setenv("NUMBER", "12")
        monkeypatch.setenv("PREFECT__SECTION__KEY", "$NUMBER")
        monkeypatch.setenv("PREFECT__SECTION__PATH", "~/x")
        cfg = load()
        assert cfg.section.key == 12
        assert cfg.section.path == os.path.join(os.environ["HOME"], "x")

    def test_custom_prefix(self, load, monkeypatch):
        monkeypatch.setenv("PREFECT__SECTION__KEY", "ignored")
        monkeypatch.setenv("OTHER__SECTION__KEY", "used")
        assert load("OTHER").section.key == "used"

    def test_no_prefix_means_no_overrides(self, load, monkeypatch):
        monkeypatch.setenv("PREFECT__SECTION__KEY", "env")
        assert load(None).section.key == "file"

    def test_variables_with_empty_segments_are_ignored(self, load, monkeypatch):
        monkeypatch.setenv("PREFECT__SECTION____KEY", "x")
        monkeypatch.setenv("PREFECT__", "y")
        cfg = load()
        assert cfg.section.key == "file"
        assert "" not in cfg

    def test_env_overrides_feed_references(self, home, monkeypatch):
        monkeypatch.setenv("PREFECT__SERVER__PORT", "5000")
        cfg = load_configuration(DEFAULT_CONFIG, env_var_prefix="PREFECT")
        assert cfg.server.port == 5000
        assert cfg.cloud.api == "http://localhost:5000"

    def test_backend_env_var_switches_the_api(self, home, monkeypatch):
        monkeypatch.setenv("PREFECT__BACKEND", "cloud")
        cfg = load_configuration(DEFAULT_CONFIG, env_var_prefix="PREFECT")
        assert cfg.cloud.api == "https://api.prefect.io"

    def test_task_defaults_from_env_are_processed(self, home, monkeypatch):
        monkeypatch.setenv("PREFECT__TASKS__DEFAULTS__RETRY_DELAY", "5")
        monkeypatch.setenv("PREFECT__TASKS__DEFAULTS__MAX_RETRIES", "3")
        monkeypatch.setenv("PREFECT__TASKS__DEFAULTS__TIMEOUT", "60")
        defaults = load_configuration(DEFAULT_CONFIG, env_var_prefix="PREFECT").tasks.defaults
        assert defaults.retry_delay == datetime.timedelta(seconds=5)
        assert defaults.max_retries == 3
        assert defaults.timeout == 60


# ---------------------------------------------------------------- interpolation


class TestInterpolation:
    def test_whole_value_reference_keeps_the_type(self):
        cfg = interpolate_config({"a": {"n": 5, "l": [1]}, "b": {"n": "${a.n}", "l": "${a.l}"}})
        assert cfg.b.n == 5
        assert cfg.b.l == [1]

    def test_partial_reference_is_spliced_as_text(self):
        cfg = interpolate_config({"host": "h", "port": 80, "url": "http://${host}:${port}/x"})
        assert cfg.url == "http://h:80/x"

    def test_nested_references_resolve_inner_first(self):
        cfg = interpolate_config(
            {
                "which": "b",
                "a": {"endpoint": "A"},
                "b": {"endpoint": "B"},
                "api": "${${which}.endpoint}",
            }
        )
        assert cfg.api == "B"

    def test_chained_references_resolve(self):
        cfg = interpolate_config({"a": "${b}", "b": "${c}/x", "c": "${d}", "d": 1})
        assert (cfg.a, cfg.b, cfg.c) == ("1/x", "1/x", 1)

    def test_unknown_reference_becomes_empty(self):
        cfg = interpolate_config({"a": "${nope.nothing}", "b": "x${nope}y"})
        assert cfg.a == ""
        assert cfg.b == "xy"

    def test_self_reference_stops_after_bounded_rounds(self):
        cfg = interpolate_config({"a": "x${a}"})
        assert cfg.a.startswith("x" * 5)
        assert "${a}" in cfg.a

    def test_file_values_expand_environment_variables(self, monkeypatch):
        monkeypatch.setenv("SOME_DIR", "/srv")
        monkeypatch.setenv("SOME_NUMBER", "7")
        cfg = interpolate_config({"path": "$SOME_DIR/data", "n": "${SOME_NUMBER}"})
        assert cfg.path == "/srv/data"
        assert cfg.n == 7

    def test_string_values_are_cast(self):
        cfg = interpolate_config({"a": "1", "b": "[]", "c": "True", "d": "hello"})
        assert (cfg.a, cfg.b, cfg.c, cfg.d) == (1, [], True, "hello")

    def test_non_string_values_pass_through(self):
        cfg = interpolate_config({"a": 1.5, "b": [1, "2"], "c": False})
        assert (cfg.a, cfg.b, cfg.c) == (1.5, [1, "2"], False)

    def test_returns_a_config(self):
        cfg = interpolate_config({"a": {"b": 1}})
        assert isinstance(cfg, Config)
        assert isinstance(cfg.a, Config)


# ---------------------------------------------------------------- helpers


class TestStringToType:
    @pytest.mark.parametrize(
        "raw, expected",
        [
            ("true", True),
            ("True", True),
            ("TRUE", True),
            ("tRuE", True),
            ("false", False),
            ("False", False),
            ("1", 1),
            ("-3", -3),
            ("1.5", 1.5),
            ("1e3", 1000.0),
            ("None", None),
            ("[1, 2]", [1, 2]),
            ("(1, 2)", (1, 2)),
            ("{'a': 1}", {"a": 1}),
            ("'quoted'", "quoted"),
            ("[]", []),
        ],
    )
    def test_literals_are_cast(self, raw, expected):
        assert string_to_type(raw) == expected
        assert type(string_to_type(raw)) is type(expected)

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "INFO",
            "0.0.0.0",
            "127.0.0.1",
            "test-password",
            "prefect.storage.Local",
            "a b",
            "nan",
        ],
    )
    def test_non_literals_stay_strings(self, raw):
        assert string_to_type(raw) == raw

    def test_non_strings_are_returned_unchanged(self):
        assert string_to_type(5) == 5

    @settings(deadline=None, max_examples=50)
    @given(st.integers())
    def test_integers_round_trip(self, n):
        assert string_to_type(str(n)) == n

    @settings(deadline=None, max_examples=50)
    @given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20))
    def test_never_raises(self, text):
        string_to_type(text)


class TestInterpolateEnvVars:
    def test_expands_variables_and_home(self, monkeypatch):
        monkeypatch.setenv("HOME", "/home/me")
        monkeypatch.setenv("NAME", "x")
        assert interpolate_env_vars("~/a/$NAME/${NAME}") == "/home/me/a/x/x"

    def test_expands_repeatedly(self, monkeypatch):
        monkeypatch.setenv("OUTER", "$INNER/o")
        monkeypatch.setenv("INNER", "i")
        assert interpolate_env_vars("$OUTER") == "i/o"

    def test_expanded_values_are_cast(self, monkeypatch):
        monkeypatch.setenv("N", "5")
        assert interpolate_env_vars("$N") == 5

    def test_unchanged_strings_are_not_cast(self):
        assert interpolate_env_vars("5") == "5"

    def test_unknown_variables_and_references_survive(self):
        assert interpolate_env_vars("${server.host}:$NOT_SET_ANYWHERE") == (
            "${server.host}:$NOT_SET_ANYWHERE"
        )

    def test_ever_changing_value_gives_none(self, monkeypatch):
        monkeypatch.setenv("GROWS", "a$GROWS")
        assert interpolate_env_vars("$GROWS") is None

    def test_non_strings_pass_through(self):
        assert interpolate_env_vars(3) == 3
        assert interpolate_env_vars(None) is None


class TestValidateConfig:
    @pytest.mark.parametrize("key", ["copy", "update", "keys", "get", "to_dict", "merge_update"])
    def test_key_colliding_with_a_config_attribute_is_refused(self, key):
        with pytest.raises(ValueError, match=re.escape(f'Invalid config key: "{key}"')):
            validate_config(Config({key: 1}))

    def test_nested_keys_are_checked(self):
        with pytest.raises(ValueError, match='Invalid config key: "items"'):
            validate_config(Config({"a": {"b": {"items": 1}}}))

    def test_valid_config_passes(self, home):
        validate_config(load_configuration(DEFAULT_CONFIG))

    def test_loading_a_file_with_a_bad_key_fails(self, home, write_toml):
        user = write_toml("user.toml", "[logging]\ncopy = 1\n")
        with pytest.raises(ValueError, match='Invalid config key: "copy"'):
            load_configuration(DEFAULT_CONFIG, user)


class TestProcessTaskDefaults:
    def test_false_values_become_zero_and_none(self):
        cfg = process_task_defaults(
            Config({"tasks": {"defaults": {"max_retries": False, "retry_delay": False}}})
        )
        assert cfg.tasks.defaults == {"max_retries": 0, "retry_delay": None, "timeout": None}

    def test_integer_retry_delay_becomes_a_timedelta(self):
        cfg = process_task_defaults(Config({"tasks": {"defaults": {"retry_delay": 10}}}))
        assert cfg.tasks.defaults.retry_delay == datetime.timedelta(seconds=10)

    def test_set_values_are_kept(self):
        cfg = process_task_defaults(
            Config({"tasks": {"defaults": {"max_retries": 3, "timeout": 30}}})
        )
        assert cfg.tasks.defaults.max_retries == 3
        assert cfg.tasks.defaults.timeout == 30

    def test_missing_tables_are_created(self):
        cfg = process_task_defaults(Config())
        assert cfg.tasks.defaults == {"max_retries": 0, "retry_delay": None, "timeout": None}
        assert isinstance(cfg.tasks.defaults, Config)

    def test_returns_the_same_object(self):
        cfg = Config()
        assert process_task_defaults(cfg) is cfg


class TestToEnvironmentVariables:
    def test_keys_are_prefixed_upper_cased_paths_and_values_strings(self):
        cfg = Config({"a": {"b": 1, "c": {"d": "x"}}, "e": None})
        assert to_environment_variables(cfg) == {
            "PREFECT__A__B": "1",
            "PREFECT__A__C__D": "x",
            "PREFECT__E": "None",
        }

    def test_include_limits_to_dotted_keys(self):
        cfg = Config({"a": {"b": 1, "c": 2}, "d": 3})
        assert to_environment_variables(cfg, include=["a.c", "d", "missing"]) == {
            "PREFECT__A__C": "2",
            "PREFECT__D": "3",
        }
        assert to_environment_variables(cfg, include="d") == {"PREFECT__D": "3"}

    def test_custom_prefix(self):
        assert to_environment_variables(Config({"a": 1}), prefix="X") == {"X__A": "1"}

    def test_round_trip_through_the_environment(self, home, write_toml, monkeypatch):
        original = load_configuration(DEFAULT_CONFIG)
        for name, value in to_environment_variables(original, prefix="ROUNDTRIP").items():
            monkeypatch.setenv(name, value)
        restored = load_configuration(write_toml("empty.toml", ""), env_var_prefix="ROUNDTRIP")
        assert dict_to_flatdict(restored) == dict_to_flatdict(original)


class TestFiles:
    def test_load_toml(self, write_toml):
        path = write_toml("x.toml", "a = 1\n[b]\nc = 'd'\n")
        assert load_toml(path) == {"a": 1, "b": {"c": "d"}}

    def test_create_user_config_copies_the_defaults(self, tmp_path):
        dest = tmp_path / "nested" / "dir" / "config.toml"
        create_user_config(str(dest))
        assert dest.read_text() == open(DEFAULT_CONFIG).read()

    def test_create_user_config_from_another_source(self, tmp_path, write_toml):
        source = write_toml("src.toml", "debug = true\n")
        dest = tmp_path / "out.toml"
        create_user_config(str(dest), source_path=source)
        assert dest.read_text() == "debug = true\n"

    def test_create_user_config_expands_the_destination(self, home):
        create_user_config("~/.prefect/config.toml")
        assert os.path.isfile(os.path.join(home, ".prefect", "config.toml"))

    def test_create_user_config_refuses_to_overwrite(self, write_toml):
        dest = write_toml("exists.toml", "debug = true\n")
        with pytest.raises(ValueError, match="already exists"):
            create_user_config(dest)
        assert open(dest).read() == "debug = true\n"


class TestConfig:
    def test_attribute_and_item_access(self):
        cfg = Config({"a": {"b": 1}})
        assert cfg.a.b == cfg["a"]["b"] == 1
        cfg.a.c = 2
        assert cfg["a"]["c"] == 2

    def test_missing_attribute_raises_attribute_error(self):
        with pytest.raises(AttributeError):
            Config().missing

    def test_copy_is_recursive(self):
        cfg = Config({"a": {"b": {"c": 1}}, "l": [1]})
        clone = cfg.copy()
        clone.a.b.c = 2
        clone.a.new = 3
        assert cfg.a.b.c == 1
        assert "new" not in cfg.a
        assert clone == {"a": {"b": {"c": 2}, "new": 3}, "l": [1]}
        assert type(clone) is Config
        assert type(clone.a.b) is Config

    def test_copy_shares_leaf_values(self):
        leaf = object()
        assert Config({"a": {"x": leaf}}).copy().a.x is leaf

    def test_default_box_option(self):
        cfg = Config(default_box=True)
        assert cfg.a.b == {}
        assert isinstance(cfg.a, Config)
        assert cfg.copy().anything == {}

    def test_deepcopy_is_independent(self):
        cfg = Config({"a": {"b": [1]}})
        clone = copy.deepcopy(cfg)
        clone.a.b.append(2)
        assert cfg.a.b == [1]
        assert type(clone.a) is Config

    def test_pickle_round_trip(self, home):
        cfg = load_configuration(DEFAULT_CONFIG)
        restored = pickle.loads(pickle.dumps(cfg))
        assert restored == cfg
        assert type(restored.server) is Config


def _reference_string_to_type(val: str):
    from ast import literal_eval

    if val.lower() in ("true", "false"):
        return val.lower() == "true"
    try:
        return literal_eval(val)
    except Exception:
        return val


@given(
    st.one_of(
        st.text(max_size=12),
        st.from_regex(r"\A[ \t]?[bBrRuUf]{0,2}['\"][a-z]*['\"]?\Z"),
        st.from_regex(r"\A[ \t]?[-+]?[0-9_.e]{1,6}j?\Z"),
        st.sampled_from(["None", "...", "[1, 'a']", "{'k': (1,)}", "()", "0x1f", "inf"]),
    )
)
def test_string_to_type_skips_parsing_only_what_literal_eval_rejects(val):
    got = string_to_type(val)
    expected = _reference_string_to_type(val)
    assert got == expected or (got != got and expected != expected)
    assert type(got) is type(expected)


def test_task_defaults_keep_zero_values_and_turn_false_into_none():
    from prefect.configuration import process_task_defaults

    processed = process_task_defaults(
        {"tasks": {"defaults": {"max_retries": False, "retry_delay": 0, "timeout": 0}}}
    )
    assert processed["tasks"]["defaults"] == {
        "max_retries": 0,
        "retry_delay": datetime.timedelta(0),
        "timeout": 0,
    }
    assert process_task_defaults({})["tasks"]["defaults"] == {
        "max_retries": 0,
        "retry_delay": None,
        "timeout": None,
    }
