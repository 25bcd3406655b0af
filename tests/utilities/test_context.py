"""prefect.context: temporary updates, config merging, thread isolation, no pickling."""

from __future__ import annotations

import copy
import pickle
import threading

import pytest

from prefect.configuration import Config, config
from prefect.utilities.collections import DotDict
from prefect.utilities.context import Context, context


def run_in_thread(fn):
    result = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as exc:  # surfaced in the calling thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_module_context_is_a_thread_local_dotdict():
    assert isinstance(context, Context)
    assert isinstance(context, DotDict)
    assert isinstance(context, threading.local)


def test_repr():
    assert repr(context) == "<Context>"
    assert repr(Context(a=1)) == "<Context>"


def test_context_always_carries_the_loaded_config():
    assert context.config is config
    assert Context().config is config


def test_context_starts_with_only_config_when_config_has_no_context_table(monkeypatch):
    monkeypatch.delitem(config, "context", raising=False)
    assert list(Context()) == ["config"]


def test_init_values_and_config_merged_with_the_loaded_config():
    ctx = Context({"a": 1}, b=2, config={"cloud": {"api": "elsewhere"}})
    assert (ctx.a, ctx.b) == (1, 2)
    assert isinstance(ctx.config, Config)
    assert ctx.config.cloud.api == "elsewhere"
    assert ctx.config.server.port == config.server.port
    assert config.cloud.api != "elsewhere"


def test_context_is_seeded_from_the_config_context_table(monkeypatch):
    monkeypatch.setitem(config, "context", Config({"flag": True, "secrets": {"KEY": "v"}}))
    ctx = Context(extra=1)
    assert ctx.flag is True
    assert ctx.secrets == {"KEY": "v"}
    assert ctx.extra == 1


def test_explicit_values_win_over_the_config_context_table(monkeypatch):
    monkeypatch.setitem(config, "context", Config({"flag": True}))
    assert Context(flag=False).flag is False


def test_changing_seeded_tables_in_the_context_leaves_the_config_alone(monkeypatch):
    monkeypatch.setitem(config, "context", Config({"secrets": {"KEY": "v"}}))
    ctx = Context()
    ctx.secrets["KEY"] = "changed"
    assert config.context.secrets.KEY == "v"


class TestTemporaryUpdates:
    def test_keys_are_set_inside_and_removed_after(self):
        assert "a" not in context
        with context(a=1):
            assert context.a == 1
        assert "a" not in context

    def test_previous_values_are_restored(self):
        with context(a=1):
            with context(a=2):
                assert context.a == 2
            assert context.a == 1

    def test_entering_without_config_keeps_the_same_config_object(self):
        with context(a=1), context({"b": 2}):
            assert context.config is config

    def test_yields_the_context_itself(self):
        with context(a=1) as ctx:
            assert ctx is context

    def test_accepts_mappings_and_kwargs_with_kwargs_winning(self):
        with context({"a": 1, "b": 1}, DotDict(c=1), b=2):
            assert (context.a, context.b, context.c) == (1, 2, 1)

    def test_keys_added_inside_the_block_by_other_means_are_removed(self):
        with context(a=1):
            context.update(b=2)
            context.c = 3
            context["a"] = 10
        assert "b" not in context
        assert "c" not in context
        assert "a" not in context

    def test_keys_deleted_inside_the_block_come_back(self):
        with context(a=1):
            with context(b=2):
                del context["a"]
            assert context.a == 1

    def test_contents_are_restored_when_the_block_raises(self):
        with context(a=1):
            with pytest.raises(ValueError):
                with context(a=2, b=3):
                    context.c = 4
                    raise ValueError("boom")
            assert dict(context) == {"config": config, "a": 1}

    def test_deeply_nested_blocks_unwind_in_order(self):
        seen = []

        def nest(level):
            if level == 5:
                return
            with context(level=level, **{f"key{level}": level}):
                nest(level + 1)
                seen.append(
                    (level, context.level, sorted(k for k in context if k.startswith("key")))
                )

        nest(0)
        assert seen == [(n, n, [f"key{i}" for i in range(n + 1)]) for n in reversed(range(5))]
        assert "level" not in context

    def test_a_block_object_cannot_be_entered_twice_at_once(self):
        block = context(a=1)
        with block:
            with pytest.raises(RuntimeError, match="already active"):
                block.__enter__()
        assert "a" not in context

    def test_a_block_object_can_be_reused_after_exit(self):
        block = context(a=1)
        with block:
            pass
        with block:
            assert context.a == 1
        assert "a" not in context


class TestConfigInContext:
    def test_config_value_is_merged_not_replaced(self):
        with context(config={"cloud": {"api": "elsewhere"}}):
            assert context.config.cloud.api == "elsewhere"
            assert context.config.cloud.graphql == config.cloud.graphql
            assert context.config.server.port == config.server.port
        assert context.config is config

    def test_merged_config_is_a_config_and_the_loaded_config_is_untouched(self):
        with context(config={"new_section": {"key": 1}}):
            assert isinstance(context.config, Config)
            assert context.config.new_section.key == 1
        assert "new_section" not in config

    def test_nested_config_merges_accumulate_and_unwind(self):
        with context(config={"a": {"x": 1}}):
            with context(config={"a": {"y": 2}}):
                assert context.config.a == {"x": 1, "y": 2}
            assert context.config.a == {"x": 1}
        assert "a" not in context.config

    def test_changing_the_merged_config_leaves_the_loaded_config_alone(self):
        with context(config={"a": 1}):
            context.config.cloud.api = "changed"
        assert config.cloud.api != "changed"

    def test_passing_the_current_config_keeps_it(self):
        with context(config=config):
            assert context.config is config


class TestPickling:
    def test_pickling_the_context_is_refused(self):
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(context)

    def test_copying_the_context_is_refused_too(self):
        with pytest.raises(TypeError, match="cannot be pickled"):
            copy.deepcopy(context)

    def test_cloudpickle_is_refused(self):
        cloudpickle = pytest.importorskip("cloudpickle")
        with pytest.raises(TypeError, match="cannot be pickled"):
            cloudpickle.dumps(context)

    def test_the_contents_can_be_pickled_as_a_dict(self):
        with context(a=1):
            data = {k: v for k, v in context.items() if k != "config"}
        assert pickle.loads(pickle.dumps(data)) == {"a": 1}


class TestThreads:
    def test_a_new_thread_does_not_see_values_set_in_another(self):
        with context(a=1):
            assert run_in_thread(lambda: context.get("a")) is None

    def test_a_new_thread_gets_a_fresh_context_with_config(self):
        with context(a=1, config={"cloud": {"api": "elsewhere"}}):
            keys, api = run_in_thread(lambda: (sorted(context), context.config.cloud.api))
        assert keys == ["config"]
        assert api == config.cloud.api

    def test_values_set_in_a_thread_do_not_leak_back(self):
        def set_values():
            context.b = 2
            with context(c=3):
                return context.c

        assert run_in_thread(set_values) == 3
        assert "b" not in context
        assert "c" not in context

    def test_new_threads_are_seeded_from_the_config_context_table(self, monkeypatch):
        monkeypatch.setitem(config, "context", Config({"flag": "on"}))
        # A context object created before the change re-initializes in each new thread.
        assert run_in_thread(lambda: context.get("flag")) == "on"

    def test_blocks_in_concurrent_threads_are_independent(self):
        barrier = threading.Barrier(2)
        seen = {}

        def worker(name):
            with context(who=name):
                barrier.wait()
                seen[name] = context.who

        threads = [threading.Thread(target=worker, args=(n,)) for n in ("x", "y")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == {"x": "x", "y": "y"}


def test_writes_inside_nested_blocks_are_undone_block_by_block():
    ctx = Context(a=0)
    with ctx(b=1):
        ctx.update(c=2)
        with ctx(a=10):
            ctx.c = 20
            ctx["d"] = 30
            del ctx["b"]
            assert (ctx.a, ctx.c, ctx.d, "b" in ctx) == (10, 20, 30, False)
        assert (ctx.a, ctx.b, ctx.c, "d" in ctx) == (0, 1, 2, False)
        ctx.a = 5
    assert dict(ctx) == {"a": 0, "config": ctx.config}


def test_blocks_exited_out_of_order_still_restore_their_keys():
    ctx = Context()
    outer = ctx(x=1)
    inner = ctx(y=2)
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)
    assert "x" not in ctx and ctx.y == 2
    inner.__exit__(None, None, None)
    assert "y" not in ctx


def test_context_refuses_keys_that_would_hide_mapping_methods():
    ctx = Context()
    with pytest.raises(ValueError, match='Invalid key: "update"'):
        ctx.update = 1
    with pytest.raises(ValueError, match='Invalid key: "get"'):
        with ctx(get=1):
            pass
    assert "get" not in ctx and "update" not in ctx


def test_context_call_also_works_as_a_decorator():
    ctx = Context()

    @ctx(x=1)
    def read(depth=0):
        inner = read(depth + 1) if depth < 2 else None
        return ctx.x, inner

    assert read() == (1, (1, (1, None)))
    assert "x" not in ctx
