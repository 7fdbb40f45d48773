"""One list of work shared by two processes, one taking from each end.

A rebuild's site-wide pages are rendered by a forked helper while the build checks which of
its other pages it can keep; whichever of the two is free first should take what is left.
The helper takes items from the front, the build from the back, each item once; the ends
are two integers in memory shared across ``fork``, moved under a lock.
"""

from __future__ import annotations

import mmap
import multiprocessing
import struct

_ENDS = struct.Struct("<qq")  # the next item from the front, one past the next from the back


class TwoEnds:
    def __init__(self, count: int) -> None:
        self._lock = multiprocessing.get_context("fork").Lock()
        self._ends = mmap.mmap(-1, _ENDS.size)  # anonymous, so shared with forked children
        _ENDS.pack_into(self._ends, 0, 0, count)

    def take_front(self, leave_share: float = 0.0) -> int | None:
        """The front item, now taken; None when every item is taken, or when what is left
        is at most ``leave_share`` of what the front has taken (left to the back, while the
        front finishes work of its own that grows with what it took)."""
        with self._lock:
            front, back = _ENDS.unpack_from(self._ends)
            if back - front <= max(0, int(front * leave_share)):
                return None
            _ENDS.pack_into(self._ends, 0, front + 1, back)
            return int(front)

    def take_back(self) -> int | None:
        """The back item, now taken; None when every item is taken."""
        with self._lock:
            front, back = _ENDS.unpack_from(self._ends)
            if front >= back:
                return None
            _ENDS.pack_into(self._ends, 0, front, back - 1)
            return int(back - 1)

    def taken_from_front(self) -> int:
        with self._lock:
            return int(_ENDS.unpack_from(self._ends)[0])
