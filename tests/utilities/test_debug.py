from __future__ import annotations

import threading

import pytest

import prefect
from prefect.utilities.debug import is_serializable, raise_on_exception


def module_level_function(x: int) -> int:
    return x + 1


class TestIsSerializable:
    @pytest.mark.parametrize(
        "obj",
        [1, "text", {"a": [1, 2]}, module_level_function, lambda x: x * 2, ValueError("boom")],
    )
    def test_picklable_objects_are_serializable(self, obj):
        assert is_serializable(obj) is True

    def test_closures_over_local_state_are_serializable(self):
        factor = 3

        def scale(x: int) -> int:
            return x * factor

        assert is_serializable(scale) is True

    def test_objects_holding_locks_are_not_serializable(self):
        assert is_serializable(threading.Lock()) is False
        assert is_serializable({"lock": threading.Lock()}) is False

    def test_raise_on_error_reraises_the_pickling_error(self):
        with pytest.raises(TypeError, match="lock"):
            is_serializable(threading.Lock(), raise_on_error=True)

    def test_unpickling_errors_count_as_not_serializable(self):
        class BreaksOnLoad:
            def __reduce__(self):
                return (_fail_on_load, ())

        assert is_serializable(BreaksOnLoad()) is False
        with pytest.raises(RuntimeError, match="cannot be rebuilt"):
            is_serializable(BreaksOnLoad(), raise_on_error=True)


def _fail_on_load():
    raise RuntimeError("cannot be rebuilt")


class TestRaiseOnException:
    def test_sets_the_context_flag_only_inside_the_block(self):
        assert prefect.context.get("raise_on_exception") is None
        with raise_on_exception():
            assert prefect.context.raise_on_exception is True
        assert prefect.context.get("raise_on_exception") is None

    def test_flag_is_removed_when_the_block_raises(self):
        with pytest.raises(ZeroDivisionError):
            with raise_on_exception():
                1 / 0
        assert "raise_on_exception" not in prefect.context

    def test_an_earlier_value_comes_back_after_the_block(self):
        with prefect.context(raise_on_exception=False):
            with raise_on_exception():
                assert prefect.context.raise_on_exception is True
            assert prefect.context.raise_on_exception is False
