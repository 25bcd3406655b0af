import functools

import pytest

from prefect.core import _signature


def test_accepts_keyword_by_parameter_kind():
    def f(a, /, b, *, c):
        pass

    def g(a, **kwargs):
        pass

    assert not _signature.accepts_keyword(f, "a")
    assert _signature.accepts_keyword(f, "b")
    assert _signature.accepts_keyword(f, "c")
    assert not _signature.accepts_keyword(f, "d")
    assert _signature.accepts_keyword(g, "anything")


def test_accepts_keyword_on_bound_methods_uses_the_function():
    class T:
        def run(self, x):
            pass

    assert _signature.accepts_keyword(T().run, "x")
    assert not _signature.accepts_keyword(T().run, "self_")


def test_validate_run_signature_follows_wrapped_functions():
    def inner(*args):
        pass

    @functools.wraps(inner)
    def outer(x):
        pass

    with pytest.raises(ValueError, match=r"\*args"):
        _signature.validate_run_signature(outer)


def test_validate_run_signature_handles_callable_objects():
    class Callable:
        def __call__(self, x, flow=None):
            pass

    with pytest.raises(ValueError, match="flow"):
        _signature.validate_run_signature(Callable())


def test_validate_run_signature_refuses_uninspectable_builtins():
    with pytest.raises(ValueError, match="can not be inspected"):
        _signature.validate_run_signature(max)


def test_infer_run_nout_reads_string_annotations():
    def f() -> "tuple[int, int]":
        return 1, 2

    assert _signature.infer_run_nout(f) == 2
