from __future__ import annotations

import pickle

import pytest

from prefect import exceptions
from prefect.exceptions import (
    AuthorizationError,
    ClientError,
    FlowStorageError,
    ObjectNotFoundError,
    PrefectException,
    PrefectSignal,
    TaskTimeoutSignal,
    VersionLockMismatchSignal,
)

# From the reference table of `prefect.exceptions` (class -> its single base).
EXPECTED_BASES = {
    PrefectSignal: BaseException,
    VersionLockMismatchSignal: PrefectSignal,
    TaskTimeoutSignal: PrefectSignal,
    PrefectException: Exception,
    ClientError: PrefectException,
    ObjectNotFoundError: ClientError,
    AuthorizationError: ClientError,
    FlowStorageError: PrefectException,
}

ALL_CLASSES = list(EXPECTED_BASES)


def test_module_exports_exactly_the_reference_names():
    assert sorted(exceptions.__all__) == sorted(cls.__name__ for cls in ALL_CLASSES)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_each_exception_has_its_reference_base(cls):
    assert cls.__bases__ == (EXPECTED_BASES[cls],)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_message_defaults_to_empty_string(cls):
    assert cls().args == ("",)
    assert str(cls()) == ""


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_message_is_the_exception_text(cls):
    assert str(cls("something broke")) == "something broke"
    assert str(cls(message="by keyword")) == "by keyword"


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_exceptions_survive_a_pickle_round_trip_with_their_message(cls):
    error = cls("it failed")
    error.extra = 42  # attributes travel too
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is cls
    assert restored.args == ("it failed",)
    assert restored.extra == 42


@pytest.mark.parametrize(
    "cls", [PrefectSignal, VersionLockMismatchSignal, TaskTimeoutSignal], ids=lambda c: c.__name__
)
def test_signals_are_not_swallowed_by_except_exception(cls):
    with pytest.raises(cls):
        try:
            raise cls("stop")
        except Exception:  # what user code inside a task typically writes
            pytest.fail("a signal was caught by `except Exception`")


def test_client_errors_are_caught_as_prefect_exceptions():
    with pytest.raises(PrefectException):
        raise ObjectNotFoundError("no flow with id 'abc'")
