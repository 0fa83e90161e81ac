"""Helpers shared by the grader's containment tests (test_sandbox.py, test_grading_*.py)."""

from __future__ import annotations

import socket
import time

import pytest

from grading import sandbox


class Listener:
    """A server on the teacher's 127.0.0.1 that records whether anyone connected.

    It is checked on creation: a connection from the test's side is seen (and cleared).
    """

    def __init__(self):
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.setblocking(False)
        self.port = self.server.getsockname()[1]
        socket.create_connection(("127.0.0.1", self.port), timeout=3).close()
        time.sleep(0.05)
        assert self.connections() == 1, "the listener does not see connections"

    def connections(self) -> int:
        """How many connections arrived since the last call (they were waiting to be accepted)."""
        got = 0
        while True:
            try:
                conn, _ = self.server.accept()
            except BlockingIOError:
                return got
            conn.close()
            got += 1

    def close(self):
        self.server.close()


@pytest.fixture
def no_bwrap(monkeypatch):
    """This process finds no bubblewrap (as on a machine without the package)."""
    monkeypatch.setattr(sandbox, "_find_bwrap", lambda: None)
    sandbox.available.cache_clear()
    yield
    sandbox.available.cache_clear()
