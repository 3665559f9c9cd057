"""The program a grading worker runs: answer comparison requests on a socket until told to stop.

Started by ``workers.WorkerPool`` as ``python -m simplerl_math_eval.worker_process FD``. It exits on
its own when the process that started it dies (a killed evaluator leaves no workers behind).
"""

import os
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection

PARENT_POLL_SECONDS = 0.5


def _exit_with_parent(parent: int) -> None:
    """Exit as soon as the starting process is gone (the worker is then re-parented)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(0)


def serve(conn: Connection) -> None:
    """Receive the function, report ready, then answer ``(a, b)`` requests with its (picklable) result, False
    when it raises; ``None`` stops."""
    compare = conn.recv()
    compare("1", "1")  # import and warm up parsers before the first timed request
    conn.send(True)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the parent closed its end or died
            return
        if task is None:
            return
        try:
            result = compare(*task)
        except Exception:
            result = False
        try:
            conn.send(result)
        except OSError:
            return


def main(fd: int, parent: int) -> None:
    """Entry point: watch the parent, ignore Ctrl-C (the parent handles it), serve on socket ``fd``."""
    # PR_SET_PDEATHSIG would fire when the *thread* that started the worker exits, which is wrong for a
    # grader shared between threads; polling the parent id is thread-agnostic.
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(Connection(fd))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
