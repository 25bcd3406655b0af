from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefect
from prefect.engine import signals
from prefect.exceptions import PrefectSignal, TaskTimeoutSignal
from prefect.utilities import executors
from prefect.utilities.executors import (
    HeartbeatThread,
    RecursiveCall,
    log_heartbeat_failure,
    multiprocessing_safe_run_and_retrieve,
    no_heartbeat,
    run_task_with_timeout,
    run_with_heartbeat,
    run_with_multiprocess_timeout,
    run_with_thread_timeout,
    send_heartbeat,
    subprocess_heartbeat,
    tail_recursive,
    threaded_heartbeat,
)


def wait_until(condition, timeout: float = 60.0) -> None:
    """Poll `condition` until it holds, failing after `timeout` seconds (generous: the deadline
    only matters when the test fails anyway, and a loaded machine can be very slow)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


def process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# Module-level so the child process of the multiprocess timeout can unpickle them by reference.
def add(x: int, y: int = 0) -> int:
    return x + y


def identify() -> tuple[int, int]:
    return os.getpid(), threading.get_ident()


def read_context(key: str) -> Any:
    return prefect.context.get(key)


def sleep_then_return(seconds: float, value: Any = "done") -> Any:
    # Short naps: a thread told to stop notices between two of them. (One long sleep would
    # also be stopped, when it ends; under a tracer such as coverage, CPython 3.11 then makes
    # the caller wait for that too.)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.005)
    return value


def raise_value_error() -> None:
    raise ValueError("bad input")


def raise_fail_signal() -> None:
    raise signals.FAIL("told to fail")


def return_a_lock() -> Any:
    return threading.Lock()


def exit_abruptly() -> None:
    os._exit(3)


class FakeTask:
    """What `run_task_with_timeout` needs of a task (Task only takes whole-second timeouts)."""

    def __init__(self, timeout: float | None, run=identify, name: str = "fake") -> None:
        self.timeout = timeout
        self.name = name
        self.run = run


# --- heartbeats ------------------------------------------------------------------------------


class FakeRunner:
    def __init__(self, wants_heartbeats: bool = True, heartbeat_cmd: list[str] | None = None):
        self.wants_heartbeats = wants_heartbeats
        self.beats: list[Any] = []
        self.logger = logging.getLogger("prefect.FakeRunner")
        if heartbeat_cmd is not None:
            self.heartbeat_cmd = heartbeat_cmd

    def _heartbeat(self) -> bool:
        self.beats.append((prefect.context.get("flow_run_id"), threading.get_ident()))
        return self.wants_heartbeats

    @run_with_heartbeat
    def work(self, x: int, *, y: int = 1) -> int:
        """Does the work."""
        return x + y

    @run_with_heartbeat
    def work_until(self, condition) -> str:
        wait_until(condition)
        return "done"


@pytest.fixture
def backend_run(monkeypatch):
    """A context as under a backend, with heartbeats every 10 ms.

    Records logged in it are not shipped: the run (often without a flow run id) is not real,
    and an entry left in the process-wide `LOG_MANAGER` would be sent along with the logs of
    a later test's real run (and make the server refuse that whole batch).
    """
    monkeypatch.setitem(prefect.config.cloud, "send_flow_run_logs", False)

    def enter(mode: str, **extra: Any):
        config = {"cloud": {"heartbeat_mode": mode, "heartbeat_interval": 0.01}}
        return prefect.context(running_with_backend=True, config=config, **extra)

    return enter


@contextmanager
def recorded_heartbeat_managers(monkeypatch):
    started: list[tuple[str, Any]] = []

    @contextmanager
    def fake_subprocess(cmd, logger=None):
        started.append(("process", cmd))
        yield None

    @contextmanager
    def fake_thread(beat, interval=30.0, logger=None):
        started.append(("thread", interval))
        yield None

    monkeypatch.setattr(executors, "subprocess_heartbeat", fake_subprocess)
    monkeypatch.setattr(executors, "threaded_heartbeat", fake_thread)
    yield started


class TestRunWithHeartbeat:
    def test_local_runs_call_the_method_without_any_heartbeat(self, monkeypatch):
        runner = FakeRunner()
        with recorded_heartbeat_managers(monkeypatch) as started:
            assert runner.work(1, y=2) == 3
        assert runner.beats == []
        assert started == []

    def test_the_wrapper_keeps_the_methods_name_and_docstring(self):
        assert FakeRunner.work.__name__ == "work"
        assert FakeRunner.work.__doc__ == "Does the work."

    def test_mode_off_sends_nothing_even_under_a_backend(self, backend_run, monkeypatch):
        runner = FakeRunner()
        with recorded_heartbeat_managers(monkeypatch) as started, backend_run("off"):
            assert runner.work(1) == 2
        assert runner.beats == []
        assert started == []

    def test_runner_declining_heartbeats_gets_only_the_first_call(self, backend_run, monkeypatch):
        runner = FakeRunner(wants_heartbeats=False)
        with recorded_heartbeat_managers(monkeypatch) as started, backend_run("thread"):
            assert runner.work(1) == 2
        assert len(runner.beats) == 1
        assert started == []

    def test_failing_first_heartbeat_is_logged_and_the_method_still_runs(
        self, backend_run, caplog, monkeypatch
    ):
        runner = FakeRunner()
        runner._heartbeat = lambda: 1 / 0  # type: ignore[method-assign]
        with recorded_heartbeat_managers(monkeypatch) as started, backend_run("process"):
            assert runner.work(1) == 2
        assert started == []
        assert "Failed to send a heartbeat" in caplog.text
        assert "ZeroDivisionError" in caplog.text

    def test_thread_mode_beats_from_another_thread_with_the_runs_context(self, backend_run):
        runner = FakeRunner()
        with backend_run("thread", flow_run_id="run-1"):
            assert runner.work_until(lambda: len(runner.beats) >= 3) == "done"
        first, *later = runner.beats
        assert first == ("run-1", threading.get_ident())  # the first one decides, in our thread
        assert {flow_run_id for flow_run_id, _ in later} == {"run-1"}
        assert all(ident != threading.get_ident() for _, ident in later)

    def test_thread_mode_stops_beating_when_the_method_returns(self, backend_run):
        runner = FakeRunner()
        with backend_run("thread"):
            runner.work_until(lambda: len(runner.beats) >= 2)
        wait_until(lambda: not any(t.name == "PrefectHeartbeat" for t in threading.enumerate()))
        count = len(runner.beats)
        time.sleep(0.05)
        assert len(runner.beats) == count

    def test_process_mode_defaults_to_the_prefect_heartbeat_command(self, backend_run, monkeypatch):
        runner = FakeRunner()
        with (
            recorded_heartbeat_managers(monkeypatch) as started,
            backend_run("process", flow_run_id="run-7"),
        ):
            runner.work(1)
        assert started == [
            ("process", [sys.executable, "-m", "prefect", "heartbeat", "flow-run", "-i", "run-7"])
        ]

    def test_process_mode_prefers_the_runners_heartbeat_cmd(self, backend_run, monkeypatch):
        runner = FakeRunner(heartbeat_cmd=["beat", "--now"])
        with recorded_heartbeat_managers(monkeypatch) as started, backend_run("process"):
            runner.work(1)
        assert started == [("process", ["beat", "--now"])]

    def test_process_mode_without_a_flow_run_id_sends_no_more(self, backend_run, monkeypatch):
        runner = FakeRunner()
        with recorded_heartbeat_managers(monkeypatch) as started, backend_run("process"):
            assert runner.work(1) == 2
        assert started == []
        assert len(runner.beats) == 1

    def test_process_mode_runs_and_kills_a_real_child(self, backend_run, tmp_path):
        pid_file = tmp_path / "pid"
        command = [
            sys.executable,
            "-c",
            f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
            "time.sleep(30)",
        ]
        runner = FakeRunner(heartbeat_cmd=command)
        with backend_run("process"):
            runner.work_until(lambda: pid_file.exists() and pid_file.read_text())
        assert process_is_gone(int(pid_file.read_text()))

    def test_method_exceptions_propagate_and_stop_the_heartbeat(self, backend_run):
        runner = FakeRunner()

        @run_with_heartbeat
        def explode(self):
            wait_until(lambda: len(self.beats) >= 2)
            raise KeyError("boom")

        with backend_run("thread"), pytest.raises(KeyError):
            explode(runner)
        wait_until(lambda: not any(t.name == "PrefectHeartbeat" for t in threading.enumerate()))


class TestHeartbeatHelpers:
    def test_no_heartbeat_is_an_empty_context_manager(self):
        with no_heartbeat() as value:
            assert value is None

    def test_heartbeat_thread_is_a_daemon_that_stops_after_num_beats(self):
        calls: list[int] = []
        thread = HeartbeatThread(threading.Event(), lambda: calls.append(1), 0.001, num=3)
        assert isinstance(thread, threading.Thread) and thread.daemon
        thread.start()
        thread.join(60)
        assert not thread.is_alive()
        assert calls == [1, 1, 1]

    def test_heartbeat_thread_survives_failing_beats_and_logs_them(self, caplog):
        attempts: list[int] = []

        def flaky():
            attempts.append(1)
            raise ConnectionError("backend down")

        thread = HeartbeatThread(threading.Event(), flaky, 0.001, num=2)
        thread.start()
        thread.join(60)
        assert not thread.is_alive()
        assert len(attempts) == 2
        assert caplog.text.count("Failed to send a heartbeat") == 2

    def test_setting_the_stop_event_ends_the_wait_at_once(self):
        stop = threading.Event()
        thread = HeartbeatThread(stop, lambda: None, interval=600)
        thread.start()
        stop.set()
        thread.join(30)  # far less than the interval: the wait ended when told to
        assert not thread.is_alive()
        assert thread.beats == 0

    def test_threaded_heartbeat_yields_the_thread_and_stops_it_on_exit(self):
        calls: list[int] = []
        with threaded_heartbeat(lambda: calls.append(1), interval=0.001) as thread:
            assert isinstance(thread, HeartbeatThread)
            wait_until(lambda: len(calls) >= 2)
        thread.join(30)
        assert not thread.is_alive()

    def test_subprocess_heartbeat_gives_the_child_the_backend_settings(self, tmp_path):
        out = tmp_path / "env"
        keys = ["PREFECT__BACKEND", "PREFECT__CLOUD__API", "PREFECT__CLOUD__API_KEY"]
        script = (
            "import os, json; "
            f"open({str(out)!r}, 'w').write(json.dumps([os.environ.get(k) for k in {keys!r}]))"
        )
        config = {"backend": "server", "cloud": {"api": "http://api.test:4200", "api_key": "k"}}
        with prefect.context(config=config), subprocess_heartbeat([sys.executable, "-c", script]):
            wait_until(lambda: out.exists() and out.read_text())
        assert out.read_text() == '["server", "http://api.test:4200", "k"]'

    def test_subprocess_heartbeat_warns_when_the_child_failed(self, caplog):
        with subprocess_heartbeat([sys.executable, "-c", "raise SystemExit(3)"]) as process:
            wait_until(lambda: process.poll() is not None)
        assert "exited with code 3" in caplog.text
        assert caplog.records[-1].levelno == logging.WARNING

    def test_send_heartbeat_sends_num_heartbeats_for_the_flow_run(self):
        class Client:
            calls: list[str] = []

            def update_flow_run_heartbeat(self, flow_run_id):
                self.calls.append(flow_run_id)

        client = Client()
        assert send_heartbeat("run-3", num=3, interval=0, client=client) == 3
        assert client.calls == ["run-3"] * 3

    def test_send_heartbeat_logs_failures_and_keeps_going(self, caplog):
        class Client:
            def update_flow_run_heartbeat(self, flow_run_id):
                raise ConnectionError("unreachable")

        assert send_heartbeat("run-4", num=2, interval=0, client=Client()) == 2
        assert caplog.text.count("Failed to send a heartbeat for flow run 'run-4'") == 2

    def test_send_heartbeat_stops_when_the_stop_event_is_set(self):
        stop = threading.Event()

        class Client:
            def update_flow_run_heartbeat(self, flow_run_id):
                stop.set()

        assert send_heartbeat("run-5", interval=60, stop_event=stop, client=Client()) == 1

    def test_log_heartbeat_failure_logs_the_current_exception(self, caplog):
        log = logging.getLogger("prefect.test_heartbeat")
        try:
            raise TimeoutError("slow backend")
        except TimeoutError:
            log_heartbeat_failure(log, "run-9")
        (record,) = caplog.records
        assert record.name == "prefect.test_heartbeat"
        assert record.levelno == logging.ERROR
        assert "flow run 'run-9'" in record.getMessage()
        assert record.exc_info is not None and record.exc_info[0] is TimeoutError


# --- timeouts --------------------------------------------------------------------------------


class TestRunWithThreadTimeout:
    def test_without_a_timeout_the_function_runs_in_the_calling_thread(self):
        assert run_with_thread_timeout(identify) == (os.getpid(), threading.get_ident())

    def test_with_a_timeout_it_runs_in_another_thread_and_returns_the_result(self):
        pid, ident = run_with_thread_timeout(identify, timeout=60)
        assert pid == os.getpid()
        assert ident != threading.get_ident()
        assert run_with_thread_timeout(add, (1,), {"y": 2}, timeout=60) == 3

    def test_the_thread_sees_a_copy_of_the_callers_context(self):
        def change_context():
            seen = (prefect.context.get("answer"), prefect.context.get("config"))
            prefect.context.answer = "changed"
            return seen

        with prefect.context(answer=42, config={"marker": "m"}):
            caller_config = prefect.context.config
            answer, config = run_with_thread_timeout(change_context, timeout=60)
            assert prefect.context.answer == 42
        assert answer == 42
        assert config is caller_config

    def test_exceptions_of_the_function_are_raised_unchanged(self):
        error = ValueError("bad input")

        def fail():
            raise error

        with pytest.raises(ValueError) as info:
            run_with_thread_timeout(fail, timeout=60)
        assert info.value is error

    def test_signals_of_the_function_are_raised_unchanged(self):
        with pytest.raises(signals.FAIL, match="told to fail"):
            run_with_thread_timeout(raise_fail_signal, timeout=60)

    def test_running_past_the_timeout_raises_task_timeout_signal(self):
        started = time.monotonic()
        with pytest.raises(TaskTimeoutSignal, match="Task 'slow' timed out after 0.1 seconds"):
            run_with_thread_timeout(sleep_then_return, (30,), timeout=0.1, name="Task 'slow'")
        # The caller does not wait for the function (30 s): a generous bound for loaded machines.
        assert time.monotonic() - started < 10

    def test_task_timeout_signal_is_not_an_exception(self):
        assert issubclass(TaskTimeoutSignal, PrefectSignal)
        assert not issubclass(TaskTimeoutSignal, Exception)

    def test_a_timed_out_thread_is_stopped_at_its_next_instruction(self):
        events: list[str] = []

        def busy():
            try:
                for _ in range(30_000):  # ~30 s: far past the timeout even on a loaded machine
                    time.sleep(0.001)
                events.append("finished")
            except TaskTimeoutSignal:
                events.append("stopped")
                raise

        with pytest.raises(TaskTimeoutSignal):
            run_with_thread_timeout(busy, timeout=0.05)
        wait_until(lambda: events)
        assert events == ["stopped"]

    def test_the_timeout_is_logged_at_debug_level(self, caplog):
        log = logging.getLogger("prefect.test_timeouts")
        with caplog.at_level(logging.DEBUG, "prefect.test_timeouts"):
            with pytest.raises(TaskTimeoutSignal):
                run_with_thread_timeout(sleep_then_return, (30,), timeout=0.01, logger=log)
        assert "Function 'sleep_then_return': execution timed out" in caplog.text


class TestRunWithMultiprocessTimeout:
    def test_without_a_timeout_the_function_runs_in_this_process(self):
        assert run_with_multiprocess_timeout(identify) == (os.getpid(), threading.get_ident())

    def test_with_a_timeout_it_runs_in_a_child_process_and_returns_the_result(self):
        pid, _ = run_with_multiprocess_timeout(identify, timeout=60)
        assert pid != os.getpid()
        assert run_with_multiprocess_timeout(add, (1,), {"y": 2}, timeout=60) == 3

    def test_lambdas_and_closures_are_shipped_with_cloudpickle(self):
        offset = 10
        assert run_with_multiprocess_timeout(lambda x: x + offset, (5,), timeout=60) == 15

    def test_the_child_sees_the_callers_context(self):
        with prefect.context(answer=42, config={"marker": "m"}):
            assert run_with_multiprocess_timeout(read_context, ("answer",), timeout=60) == 42
            config = run_with_multiprocess_timeout(read_context, ("config",), timeout=60)
        assert config.marker == "m"

    def test_context_values_that_cannot_be_pickled_do_not_stop_the_run(self):
        with prefect.context(lock=threading.Lock(), answer=42):
            assert run_with_multiprocess_timeout(read_context, ("answer",), timeout=60) == 42

    def test_exceptions_come_back_with_the_childs_traceback_as_a_note(self):
        with pytest.raises(ValueError, match="bad input") as info:
            run_with_multiprocess_timeout(raise_value_error, timeout=60, name="Task 'v'")
        (note,) = info.value.__notes__
        assert note.startswith("Raised in the child process that ran Task 'v':")
        assert "in raise_value_error" in note

    def test_signals_come_back_as_signals(self):
        with pytest.raises(signals.FAIL, match="told to fail") as info:
            run_with_multiprocess_timeout(raise_fail_signal, timeout=60)
        assert info.value.state.is_failed()

    def test_running_past_the_timeout_raises_and_kills_the_child(self, monkeypatch):
        # The child is recorded as it is made: a pid file written by the function could still
        # be missing when a loaded machine lets the 0.2 s run out before the function gets on.
        real_context = multiprocessing.get_context()
        children: list[Any] = []

        class RecordingContext:
            def Pipe(self, *args: Any, **kwargs: Any) -> Any:
                return real_context.Pipe(*args, **kwargs)

            def Process(self, *args: Any, **kwargs: Any) -> Any:
                children.append(real_context.Process(*args, **kwargs))
                return children[-1]

        monkeypatch.setattr(multiprocessing, "get_context", lambda *a: RecordingContext())
        started = time.monotonic()
        with pytest.raises(TaskTimeoutSignal, match="Task 'slow' timed out after 0.2 seconds"):
            run_with_multiprocess_timeout(
                sleep_then_return, (120,), timeout=0.2, name="Task 'slow'"
            )
        # The caller does not wait for the function (120 s): a generous bound for loaded
        # machines, which includes starting the child.
        assert time.monotonic() - started < 30
        (child,) = children
        assert child.exitcode is not None  # killed and reaped
        assert process_is_gone(child.pid)

    def test_a_result_that_cannot_be_pickled_raises_a_runtime_error_saying_so(self):
        with pytest.raises(RuntimeError, match="The result of type 'lock' could not be sent"):
            run_with_multiprocess_timeout(return_a_lock, timeout=60)

    def test_a_function_that_cannot_be_pickled_fails_before_starting_a_child(self):
        lock = threading.Lock()
        with pytest.raises(RuntimeError, match="cannot be pickled") as info:
            run_with_multiprocess_timeout(lambda: lock, timeout=60, name="Task 'l'")
        assert str(info.value).startswith("Task 'l' runs in a child process")
        assert isinstance(info.value.__cause__, TypeError)

    def test_a_child_that_dies_raises_a_runtime_error_with_its_exit_code(self):
        with pytest.raises(RuntimeError, match=r"exited \(code 3\) without sending back"):
            run_with_multiprocess_timeout(exit_abruptly, timeout=60)


class QueueStandIn:
    def __init__(self) -> None:
        self.items: list[Any] = []

    def put(self, item: Any) -> None:
        self.items.append(item)


class TestMultiprocessingSafeRunAndRetrieve:
    def run(self, fn, *args, **kwargs):
        import cloudpickle

        queue = QueueStandIn()
        payload = cloudpickle.dumps({"fn": fn, "args": args, "kwargs": kwargs, "context": {}})
        multiprocessing_safe_run_and_retrieve(queue, payload)
        started, message = queue.items
        assert started == "started"
        return cloudpickle.loads(message)

    def test_puts_the_start_message_then_the_pickled_result(self):
        assert self.run(add, 1, y=2) == ("ok", 3)

    def test_puts_the_exception_and_its_formatted_traceback(self):
        kind, error, text = self.run(raise_value_error)
        assert (kind, type(error)) == ("error", ValueError)
        assert "Traceback" in text and "bad input" in text

    def test_a_result_that_cannot_be_pickled_becomes_a_runtime_error(self):
        kind, error, _ = self.run(return_a_lock)
        assert kind == "error"
        assert isinstance(error, RuntimeError)
        assert "cannot be pickled" in str(error)

    def test_a_payload_that_cannot_be_read_is_reported_as_an_error(self):
        queue = QueueStandIn()
        multiprocessing_safe_run_and_retrieve(queue, b"not a pickle")
        import cloudpickle

        started, message = queue.items
        assert started == "started"
        assert cloudpickle.loads(message)[0] == "error"


class TestRunTaskWithTimeout:
    def test_without_a_timeout_the_task_runs_here(self):
        assert run_task_with_timeout(FakeTask(None)) == (os.getpid(), threading.get_ident())

    def test_args_and_kwargs_reach_the_tasks_run(self):
        task = FakeTask(None, run=add)
        assert run_task_with_timeout(task, (1,), {"y": 2}) == 3

    def test_a_timed_task_runs_in_a_child_process_by_default(self):
        pid, _ = run_task_with_timeout(FakeTask(60))
        assert pid != os.getpid()

    def test_context_can_ask_for_thread_timeouts(self):
        with prefect.context(task_run_timeout_mode="thread"):
            pid, ident = run_task_with_timeout(FakeTask(60))
        assert pid == os.getpid()
        assert ident != threading.get_ident()

    def test_daemonic_processes_use_thread_timeouts(self, monkeypatch):
        class Daemonic:
            daemon = True

        monkeypatch.setattr(multiprocessing, "current_process", lambda: Daemonic())
        pid, _ = run_task_with_timeout(FakeTask(60))
        assert pid == os.getpid()

    def test_windows_uses_thread_timeouts(self, monkeypatch):
        monkeypatch.setattr(sys, "platform", "win32")
        pid, _ = run_task_with_timeout(FakeTask(60))
        assert pid == os.getpid()

    def test_context_can_insist_on_process_timeouts(self, monkeypatch):
        monkeypatch.setattr(sys, "platform", "win32")
        with prefect.context(task_run_timeout_mode="process"):
            pid, _ = run_task_with_timeout(FakeTask(60))
        assert pid != os.getpid()

    @pytest.mark.parametrize("mode", ["thread", "process"])
    def test_a_task_past_its_timeout_raises_task_timeout_signal_naming_it(self, mode):
        task = FakeTask(0.1, run=sleep_then_return, name="slow")
        with (
            prefect.context(task_run_timeout_mode=mode),
            pytest.raises(TaskTimeoutSignal, match="Task 'slow' timed out after 0.1 seconds"),
        ):
            # 30 s: far past the timeout even when a loaded machine wakes the caller late.
            run_task_with_timeout(task, (30,))

    def test_a_real_task_with_a_timeout_returns_its_result(self):
        class Double(prefect.Task):
            def run(self, x):
                return 2 * x

        assert run_task_with_timeout(Double(timeout=60), (21,)) == 42


# --- tail recursion --------------------------------------------------------------------------


@tail_recursive
def count_down(n: int, total: int = 0) -> int:
    if n == 0:
        return total
    raise RecursiveCall(count_down, n - 1, total=total + n)


@tail_recursive
def ping(n: int) -> str:
    if n == 0:
        return "ping"
    raise RecursiveCall(pong, n - 1)


@tail_recursive
def pong(n: int) -> str:
    if n == 0:
        return "pong"
    raise RecursiveCall(ping, n - 1)


class TestTailRecursive:
    def test_a_function_that_returns_is_called_once(self):
        calls: list[int] = []

        @tail_recursive
        def once(x):
            calls.append(x)
            return x * 2

        assert once(4) == 8
        assert calls == [4]

    def test_recursive_calls_loop_with_the_new_arguments(self):
        assert count_down(4) == 10

    def test_recursion_far_past_the_stack_limit_does_not_overflow(self):
        depth = sys.getrecursionlimit() * 5
        assert count_down(depth) == depth * (depth + 1) // 2

    @settings(max_examples=25, deadline=None)
    @given(st.integers(min_value=0, max_value=300))
    def test_the_loop_equals_the_recursion_it_replaces(self, n):
        assert count_down(n) == sum(range(n + 1))

    def test_methods_pass_self_among_the_arguments(self):
        class Runner:
            def __init__(self):
                self.loops = 0

            @tail_recursive
            def run(self, n):
                if n == 0:
                    return self.loops
                self.loops += 1
                raise RecursiveCall(self.run, self, n - 1)

        assert Runner().run(3) == 3

    def test_the_call_can_move_on_to_another_tail_recursive_function(self):
        assert ping(3) == "pong"
        assert ping(4) == "ping"

    def test_other_exceptions_end_the_loop(self):
        @tail_recursive
        def fail_at_zero(n):
            if n == 0:
                raise LookupError("bottom")
            raise RecursiveCall(fail_at_zero, n - 1)

        with pytest.raises(LookupError, match="bottom"):
            fail_at_zero(5)

    def test_the_wrapper_keeps_the_name_and_exposes_the_function(self):
        assert count_down.__name__ == "count_down"
        assert count_down.__wrapped_func__.__name__ == "count_down"  # type: ignore[attr-defined]


class TestRecursiveCall:
    def test_holds_the_function_and_its_arguments(self):
        call = RecursiveCall(add, 1, y=2)
        assert isinstance(call, Exception)
        assert call.func is add
        assert call.args == (1,)
        assert call.kwargs == {"y": 2}

    def test_pickles_with_its_fields(self):
        copy = pickle.loads(pickle.dumps(RecursiveCall(add, 1, y=2)))
        assert (copy.func, copy.args, copy.kwargs) == (add, (1,), {"y": 2})


def test_the_module_does_not_import_heavy_dependencies():
    import subprocess

    code = (
        "import sys, prefect.utilities.executors\n"
        "print(' '.join(m for m in ('cloudpickle', 'multiprocessing') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == ""
