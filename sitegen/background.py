"""Work for the second core: a forked child computes a value while the build goes on.

A rebuild spends its first second on one core (unpickling the memo, checking, planning)
while the other waits. Some of what it needs later is pure I/O that does not depend on that
work: the store's listing and file identities, which pages of the previous site are intact.
:class:`Background` computes such a value in a forked child and hands it over, pickled,
when asked for. Without ``fork`` (Windows), or when the child fails for any reason, the
value is computed in-process instead: the result is the same, only the time differs.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """``work()`` started now in a forked child; :meth:`result` waits for it.

    ``nice``: how much to lower the child's priority, for work needed late; it then takes
    the second core only when nothing more urgent wants it. ``fork=False`` (one process
    asked for) computes the value in-process when asked.
    """

    def __init__(self, work: Callable[[], T], nice: int = 0, fork: bool = True) -> None:
        self._work = work
        self._nice = nice
        self._owner = os.getpid()
        self._pid = 0
        self._read = -1
        self._value: tuple[T] | None = None
        if fork and hasattr(os, "fork"):
            with contextlib.suppress(OSError):
                self._start()

    def _start(self) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            os.close(read)
            _run_child(self._work, write, self._nice)
        os.close(write)
        self._pid, self._read = pid, read

    def result(self) -> T:
        """The child's value, or ``work()`` computed here if the child gave none; asked
        again, the same value. A process forked from the owner after the start (a render
        worker) computes the value itself: the child and its pipe are the owner's."""
        if self._value is None:
            self._value = (self._collect(),)
        return self._value[0]

    def _collect(self) -> T:
        if self._pid and os.getpid() == self._owner:
            with os.fdopen(self._read, "rb") as pipe:
                data = pipe.read()
            self._read = -1
            _, status = os.waitpid(self._pid, 0)
            self._pid = 0
            if os.waitstatus_to_exitcode(status) == 0 and data:
                value: T = pickle.loads(data)
                return value
        return self._work()

    def cancel(self) -> None:
        """Stop the child if it still runs (the build failed before needing its value)."""
        if self._pid and os.getpid() == self._owner:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            os.close(self._read)
            self._pid, self._read = 0, -1


def _run_child(work: Callable[[], object], write: int, nice: int) -> None:
    code = 1
    try:
        if nice:
            os.nice(nice)
        data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
        code = 0
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
