"""Loaded first by every Python process of the time-shifted run (`make test-future`, PYTHONPATH=tests/faketime).

The run moves the wall clock ahead with Debian's libfaketime and leaves the monotonic clock alone
(DONT_FAKE_MONOTONIC=1), else every timeout that waits on CLOCK_MONOTONIC in the kernel hangs. With
that setting libfaketime 0.9.10 mangles clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), which is how
Python 3.11's time.sleep waits, into EINVAL (libfaketime issue #426). select() with a relative
timeout passes through untouched, so sleeps wait on it instead.
"""
import os
import select
import time

if "faketime" in os.environ.get("LD_PRELOAD", ""):
    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        select.select([], [], [], seconds)

    time.sleep = _sleep
