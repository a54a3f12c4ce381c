"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_server import LocalServer


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A scripted HTTP server on 127.0.0.1 (see ``tests/http_server.py``)."""
    with LocalServer() as server:
        yield server
