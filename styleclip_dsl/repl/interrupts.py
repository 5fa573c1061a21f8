"""Ctrl-C while a line runs: stop the running step, keep the session.

The first Ctrl-C asks the executor to stop at its next check (the engines
check between their steps); if the run is still going after ``grace``
seconds, or on a second Ctrl-C, a KeyboardInterrupt is raised in the main
thread, which the executor turns into ``Interrupted`` (an interrupted step's
results are never cached, and files are written atomically).
"""
from __future__ import annotations

import _thread
import signal
import threading
from typing import Callable

DEFAULT_GRACE_S = 0.5


class InterruptGuard:
    """A context manager that owns SIGINT while a line runs (main thread only)."""

    def __init__(self, request_stop: Callable[[], None], grace: float = DEFAULT_GRACE_S) -> None:
        self.request_stop = request_stop
        self.grace = grace
        self.presses = 0
        self._active = False
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._previous = None

    def __enter__(self) -> "InterruptGuard":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._active = True
        return self

    def _on_sigint(self, signum, frame) -> None:
        self.presses += 1
        if self.presses == 1:
            self.request_stop()
            self._timer = threading.Timer(self.grace, self._force)
            self._timer.daemon = True
            self._timer.start()
            return
        raise KeyboardInterrupt

    def _force(self) -> None:
        with self._lock:
            if self._active:
                _thread.interrupt_main(signal.SIGINT)

    def __exit__(self, *exc) -> None:
        with self._lock:
            was_active, self._active = self._active, False
        if self._timer is not None:
            self._timer.cancel()
        if was_active:
            signal.signal(signal.SIGINT, self._previous)
