"""Headless Chromium for the tests of OUT/report.html: Debian's /usr/bin/chromium driven by the Python package
playwright (a dev extra), which never downloads a browser of its own. Every page is opened in a fresh context
that records each request and aborts any that is not the page's own file or a data: URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying the closed network of this machine and CI.
# playwright adds a fresh temporary --user-data-dir itself on every launch.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
INSTALL_HINT = "run `bash scripts/install_chromium.sh` (Debian's chromium) and `pip install -e '.[dev]'` (playwright)"


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless; fails the test (never skips it) when it or playwright is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: {INSTALL_HINT}", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"the Python package playwright is missing: {INSTALL_HINT}", pytrace=False)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


def _local(url: str, own: str) -> bool:
    return url.startswith("data:") or url.split("#", 1)[0] == own


@contextmanager
def open_page(browser: Browser, html: Path) -> Iterator[Page]:
    """`html` opened by its file:// URL at 1280×900. On a clean exit, asserts that no request left the page:
    every request seen was the page's own URL or a data: URL (anything else was also aborted by the route)."""
    own = html.resolve().as_uri()
    context = browser.new_context(viewport=VIEWPORT)
    seen: list[str] = []
    context.on("request", lambda request: seen.append(request.url))
    context.route("**/*", lambda route: route.continue_() if _local(route.request.url, own) else route.abort())
    try:
        page = context.new_page()
        page.on("websocket", lambda ws: seen.append(ws.url))
        page.set_default_timeout(10_000)
        page.goto(own, wait_until="load")
        yield page
        page.wait_for_timeout(200)  # a late fetch started by the page's script still gets seen
        foreign = sorted({url for url in seen if not _local(url, own)})
        assert not foreign, f"report.html made requests that leave the page: {foreign[:5]}"
    finally:
        context.close()
