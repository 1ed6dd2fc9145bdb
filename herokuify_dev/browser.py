"""A page loaded in headless Chromium (Debian's `chromium`), as a person would look at it: the
DOM once the page has settled, and every message the page's console got.

Chromium writes console messages to its log as `...:CONSOLE:<line>] "<message>", source: ...`;
a resource blocked by CORS shows there as "Access to font at ... has been blocked by CORS
policy". Requests that fail are seen by the proxy in front of the store, not here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

_CONSOLE = re.compile(r':CONSOLE:\d+\] "(.*)", source: ')
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
SETTLE_MS = 10_000  # Chromium's virtual time for the page to load and run its scripts


@dataclass(frozen=True)
class PageLoad:
    title: str
    console: list[str]
    dom: str


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        raise RuntimeError("Debian's chromium is needed: script/bootstrap installs it")
    return found


def load_page(url: str) -> PageLoad:
    with tempfile.TemporaryDirectory(prefix="herokuify-chromium-") as profile:
        done = subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot
                "--disable-gpu",
                "--disable-dev-shm-usage",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                f"--virtual-time-budget={SETTLE_MS}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited with {done.returncode}:\n{done.stderr[-2000:]}")
    title = _TITLE.search(done.stdout)
    return PageLoad(
        title=title[1].strip() if title else "",
        console=_CONSOLE.findall(done.stderr),
        dom=done.stdout,
    )
