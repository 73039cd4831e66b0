# SPDX-License-Identifier: MIT
"""Helpers both test suites (tests/integration, tests/images) share: waiting
for a condition, and a free loopback port."""
import socket
import time


def wait_for(pred, timeout=10.0, interval=0.01):
    """Poll pred() until it is truthy; return its value or None at timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return None


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
