"""Engine processes die with the process that started them.

vLLM starts its engine core (and, under tensor parallelism, its workers) as multiprocessing children. When their parent
is killed with SIGKILL it cannot stop them, and they used to stay alive, holding memory, for over a minute. The plugin
arms :func:`exit_with_parent` in every such child: a daemon thread that kills the process as soon as its parent is
gone. A process that multiprocessing did not start (the user's own, a Ray worker) is left alone.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

POLL_S = 0.5
_armed = False


def exit_with_parent() -> None:
    """In a multiprocessing child: SIGKILL this process within ``POLL_S`` seconds of its parent's death."""
    global _armed
    parent = multiprocessing.parent_process()
    if parent is None or _armed:
        return
    _armed = True
    threading.Thread(target=_watch, args=(parent.pid,), name="rast-exit-with-parent", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:  # a dead parent's children are re-parented (to init or a subreaper)
        time.sleep(POLL_S)
    os.kill(os.getpid(), signal.SIGKILL)
