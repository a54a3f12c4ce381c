"""Headless Chromium for the report tests (Debian's ``chromium`` package, driven by
Playwright with ``executable_path`` — no browser download).

Without ``/usr/bin/chromium`` the browser tests skip with the install hint: `make test`
must run on a machine with only Python, pip and make, and the browser is not a Python
package. Under ``CI=true`` (``.ci/run`` installs the package) a missing browser fails.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_context() -> Iterator[Any]:
    """A Playwright browser context on an empty profile (1280 × 900, de-DE)."""
    if not CHROMIUM.exists():
        reason = (
            f"no Chromium at {CHROMIUM}: install Debian's 'chromium' package "
            "(apt-get install -y chromium) to run the browser tests"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires the browser tests: {reason}")
        pytest.skip(reason)
    # playwright is a locked dev dependency: a missing module is an error, not a skip.
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        playwright = sync_playwright().start()
        try:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=LAUNCH_ARGS,
                viewport={"width": 1280, "height": 900},
                locale="de-DE",
            )
            yield context
            context.close()
        finally:
            playwright.stop()
