"""A small pool of worker processes that run a comparison with a hard per-call time limit.

A call that exceeds the limit (a sympy blow-up, a C-level hang, a deadlock) is abandoned: its
worker process is killed and replaced, and the call is reported as timed out.

Workers are fresh interpreters (``subprocess``: fork + exec), not ``multiprocessing`` children, so
a pool can be started inside a ``multiprocessing.Pool`` worker (a daemonic process) and while other
threads run. They exit by themselves when the process that started them dies.
"""

import os
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any
from multiprocessing.connection import Connection, wait

Compare = Callable[[str, str], Any]  # a verdict (bool) or any picklable result (e.g. an extracted answer)

STARTUP_LIMIT = 300.0  # seconds a new worker may take to import and warm up


class _Worker:
    """One worker process and the parent's end of its socket; ``ready`` once it has warmed up."""

    def __init__(self, compare: Compare) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simplerl_math_eval.worker_process", str(theirs.fileno()), str(os.getpid())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send(compare)  # pickled by reference: the worker imports it from its module
        self.started = time.monotonic()
        self.ready = False

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
            self.process.wait(timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self.conn.close()


class WorkerPool:
    """Run ``compare(a, b)`` for many pairs in ``size`` processes, each call limited to ``timeout`` s.

    Not thread-safe: one ``run`` at a time (``Grader`` serialises them).
    """

    def __init__(self, compare: Compare, size: int, timeout: float) -> None:
        self.compare = compare
        self.timeout = timeout
        self.workers = [_Worker(compare) for _ in range(max(1, size))]

    def run(
        self,
        tasks: Sequence[tuple[str, str]],
        on_result: Callable[[int, Any, bool], None] | None = None,
    ) -> list[tuple[Any, bool]]:
        """Return ``(result, timed_out)`` per task (False when timed out); ``on_result(i, result, timed_out)`` is
        called as each ends."""
        results: list[tuple[Any, bool]] = [(False, False)] * len(tasks)
        pending = deque(range(len(tasks)))
        idle = [w for w in self.workers if w.ready]
        starting = {w.conn: w for w in self.workers if not w.ready}
        busy: dict[Connection, tuple[_Worker, int, float]] = {}

        def finish(worker: _Worker, index: int, equal: Any, timed_out: bool) -> None:
            if timed_out:
                fresh = self._replace(worker)
                starting[fresh.conn] = fresh
            else:
                idle.append(worker)
            results[index] = (equal, timed_out)
            if on_result is not None:
                on_result(index, equal, timed_out)

        while pending or busy:
            while pending and idle:
                worker, index = idle.pop(), pending.popleft()
                try:
                    worker.conn.send(tasks[index])
                except OSError:  # the worker died while idle: retry the task on its replacement
                    pending.appendleft(index)
                    fresh = self._replace(worker)
                    starting[fresh.conn] = fresh
                    continue
                busy[worker.conn] = (worker, index, time.monotonic() + self.timeout)
            deadlines = [d for _, _, d in busy.values()] + [w.started + STARTUP_LIMIT for w in starting.values()]
            ready = wait([*busy, *starting], timeout=max(0.0, min(deadlines) - time.monotonic()))
            for conn in ready:
                if conn in starting:
                    worker = starting.pop(conn)
                    self._started(worker)
                    idle.append(worker)
                    continue
                worker, index, _ = busy.pop(conn)
                try:
                    equal = conn.recv()
                except (EOFError, OSError):  # the worker died (e.g. a crash in C code)
                    finish(worker, index, False, True)
                else:
                    finish(worker, index, equal, False)
            now = time.monotonic()
            for conn, (worker, index, deadline) in list(busy.items()):
                if deadline <= now:
                    del busy[conn]
                    finish(worker, index, False, True)
            for worker in starting.values():
                if worker.started + STARTUP_LIMIT <= now:
                    raise RuntimeError(f"a grading worker did not start within {STARTUP_LIMIT:.0f} s")
        return results

    @staticmethod
    def _started(worker: _Worker) -> None:
        try:
            worker.ready = worker.conn.recv()
        except (EOFError, OSError):
            raise RuntimeError("a grading worker exited while starting (its error is printed above)") from None

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        fresh = _Worker(self.compare)
        self.workers[self.workers.index(worker)] = fresh
        return fresh

    def close(self) -> None:
        """Stop all worker processes."""
        for worker in self.workers:
            worker.stop()
        self.workers = []
