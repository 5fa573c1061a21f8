"""Ctrl-C while a line runs: the first press asks the step to stop, a second
press (or a step that does not stop within the grace time) interrupts."""
from __future__ import annotations

import os
import signal
import time

import pytest

from styleclip_dsl.repl.interrupts import InterruptGuard


def press_ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(100):  # let the main thread run the handler
        time.sleep(0.001)


def test_the_first_press_asks_to_stop_and_nothing_is_raised():
    asked = []
    before = signal.getsignal(signal.SIGINT)
    with InterruptGuard(lambda: asked.append(True), grace=30) as guard:
        press_ctrl_c()
        assert asked == [True]
        assert guard.presses == 1
    assert signal.getsignal(signal.SIGINT) is before


def test_a_second_press_interrupts_at_once():
    asked = []
    with pytest.raises(KeyboardInterrupt):
        with InterruptGuard(lambda: asked.append(True), grace=30):
            press_ctrl_c()
            press_ctrl_c()
    assert asked == [True]


def test_a_step_that_ignores_the_request_is_interrupted_after_the_grace_time():
    with pytest.raises(KeyboardInterrupt):
        with InterruptGuard(lambda: None, grace=0.05):
            press_ctrl_c()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # a step that never checks the stop flag
                time.sleep(0.01)


def test_leaving_the_guard_cancels_the_pending_interrupt():
    with InterruptGuard(lambda: None, grace=0.2):
        press_ctrl_c()
    time.sleep(0.4)  # the timer would have fired by now; the test process is not interrupted
