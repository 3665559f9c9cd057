"""A small pool of worker processes that run a comparison with a hard per-call time limit.

A call that exceeds the limit (a sympy blow-up, a C-level hang, a deadlock) is abandoned: its
worker process is killed and replaced, and the call is reported as timed out.
"""

import multiprocessing
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait

Compare = Callable[[str, str], bool]

# fork shares the already imported (and warmed-up) sympy / math-verify with the workers,
# so starting or replacing a worker costs milliseconds instead of seconds.
_CONTEXT = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _serve(conn: Connection, compare: Compare) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        task = conn.recv()
        if task is None:
            return
        try:
            result = bool(compare(*task))
        except Exception:
            result = False
        conn.send(result)


class _Worker:
    def __init__(self, compare: Compare) -> None:
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=_serve, args=(child, compare), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
            self.process.join(timeout=1)
        except OSError:
            pass
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class WorkerPool:
    """Run ``compare(a, b)`` for many pairs in ``size`` processes, each call limited to ``timeout`` s."""

    def __init__(self, compare: Compare, size: int, timeout: float) -> None:
        self.compare = compare
        self.timeout = timeout
        self.workers = [_Worker(compare) for _ in range(max(1, size))]

    def run(
        self,
        tasks: Sequence[tuple[str, str]],
        on_result: Callable[[int, bool, bool], None] | None = None,
    ) -> list[tuple[bool, bool]]:
        """Return ``(equal, timed_out)`` per task; ``on_result(i, equal, timed_out)`` is called as each ends."""
        results: list[tuple[bool, bool]] = [(False, False)] * len(tasks)
        pending = deque(range(len(tasks)))
        idle = list(self.workers)
        busy: dict[Connection, tuple[_Worker, int, float]] = {}

        def finish(worker: _Worker, index: int, equal: bool, timed_out: bool, replace: bool) -> None:
            idle.append(self._replace(worker) if replace else worker)
            results[index] = (equal, timed_out)
            if on_result is not None:
                on_result(index, equal, timed_out)

        while pending or busy:
            while pending and idle:
                worker, index = idle.pop(), pending[0]
                try:
                    worker.conn.send(tasks[index])
                except OSError:  # the idle worker died: replace it and try again
                    idle.append(self._replace(worker))
                    continue
                pending.popleft()
                busy[worker.conn] = (worker, index, time.monotonic() + self.timeout)
            next_deadline = min(deadline for _, _, deadline in busy.values())
            for conn in wait(list(busy), timeout=max(0.0, next_deadline - time.monotonic())):
                worker, index, _ = busy.pop(conn)
                try:
                    finish(worker, index, conn.recv(), False, replace=False)
                except (EOFError, OSError):  # the worker died (e.g. a crash in C code)
                    finish(worker, index, False, True, replace=True)
            now = time.monotonic()
            for conn, (worker, index, deadline) in list(busy.items()):
                if deadline <= now:
                    del busy[conn]
                    finish(worker, index, False, True, replace=True)
        return results

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
