"""A prune never deletes what a concurrent build relies on (bucket/pruning.py).

Hashed names, HEROKUIFY_PRUNE=1 and HEROKUIFY_KEEP_RELEASES=3. Releases v1, v2 and v3 are
deployed, then made to look two hours old (past the grace period) by the proxy's clock
(herokuify_dev/aging.py). Then build A deploys v4, which prunes, while build B rolls back to
v1, whose own objects A would delete: B finds them in its listing and uploads none of them.
Each build talks to S3 through a proxy of its own, and A's deletes wait until B has listed the
bucket, so that every run races. B starts at several offsets from A, before and after it.
Whatever the interleaving, both builds land and every object of both releases is in the
bucket, byte for byte.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from herokuify_dev.aging import Aging
from herokuify_dev.faults import describe
from herokuify_dev.localbuild import build_app, not_pushed
from herokuify_dev.proxy import running_proxy
from herokuify_dev.standin import StandIn
from herokuify_dev.transcript import Transcript

FIXTURE = Path(__file__).resolve().parents[3] / "test-fixtures" / "compressor"
LOCAL_ONLY = {"staticfiles.json", "CACHE/manifest.json"}
PRUNED = re.compile(r"Pruned (\d+) objects?")
# Each release's own stylesheet: its hashed name, and the bundle that holds it, are its alone.
RELEASES = {
    f"v{n}": {"shop/base.css": f"body {{ color: #{n}{n}{n}; }}\n".encode()} for n in range(1, 5)
}


class DeletesAfterListing:
    """Holds build A's DeleteObjects until build B has had an answer to a listing."""

    def __init__(self) -> None:
        self.listed = threading.Event()  # the proxies run event loops of their own
        self.held = 0

    def lister(self, proxy):
        async def handle(conn, request) -> bool:
            kept_open = await proxy.forward(conn, request)
            if describe(request).operation == "ListObjectsV2":
                self.listed.set()  # once moto has answered it
            return kept_open

        return handle

    def deleter(self, proxy):
        async def handle(conn, request) -> bool:
            if describe(request).operation == "DeleteObjects" and not self.listed.is_set():
                self.held += 1
                deadline = time.monotonic() + 60
                while not self.listed.is_set() and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
            return await proxy.forward(conn, request)

        return handle


@pytest.fixture
def aged_proxies(s3_server):
    """Build A's proxy and build B's, whose listings show the same aged objects."""
    aging = Aging()
    with running_proxy(s3_server.endpoint_url) as a, running_proxy(s3_server.endpoint_url) as b:
        a.rewrite_listing = b.rewrite_listing = aging.rewrite
        yield a, b, aging


def app_of(release: str, root: Path) -> Path:
    app = root / f"app-{release}"
    if not app.exists():
        shutil.copytree(FIXTURE, app, ignore=not_pushed)
        for name, data in RELEASES[release].items():
            (app / "shop_site" / "static" / name).write_bytes(data)
    return app


def release_files(static_root: Path) -> dict[str, Path]:
    """A hashed-mode release's objects: its hashed names and its compressor bundles."""
    hashed = json.loads((static_root / "staticfiles.json").read_text())["paths"].values()
    names = set(hashed) | {
        path.relative_to(static_root).as_posix() for path in (static_root / "CACHE").rglob("*.*")
    }
    return {f"static/{name}": static_root / name for name in names - LOCAL_ONLY}


@pytest.mark.parametrize("offset", [-1.5, 0.0, 0.7, 1.5, 3.0], ids=lambda s: f"B{s:+.1f}s")
def test_a_prune_spares_what_a_concurrent_rollback_relies_on(
    aged_proxies, config_vars, s3_client, bucket, standins, tmp_path, offset
):
    proxy_a, proxy_b, aging = aged_proxies
    standin = standins("compressor")
    config = config_vars | {
        "HEROKUIFY_HASHED_NAMES": "1",
        "HEROKUIFY_PRUNE": "1",
        "HEROKUIFY_KEEP_RELEASES": "3",
    }

    def deploy(release: str, name: str, proxy=proxy_a):
        app = app_of(release, tmp_path)
        return build_app(
            app,
            config | {"AWS_S3_ENDPOINT_URL": proxy.endpoint_url},
            StandIn(app, python=standin.python, django=standin.django),
            workdir=tmp_path / name,
            stream=Transcript(io.StringIO()),
        )

    history = {release: deploy(release, release) for release in ("v1", "v2", "v3")}
    for result in history.values():
        assert result.ok, result.output
    v1_only = set(release_files(history["v1"].build_dir / "staticfiles"))
    for later in ("v2", "v3"):
        v1_only -= set(release_files(history[later].build_dir / "staticfiles"))
    assert v1_only, "v1 has no objects of its own: the race would prove nothing"
    aging.age_existing(by=timedelta(hours=2))
    race = DeletesAfterListing()
    proxy_a.handler, proxy_b.handler = race.deleter(proxy_a), race.lister(proxy_b)
    start = threading.Barrier(2)

    def after_start(release: str, name: str, proxy, delay: float):
        start.wait()
        time.sleep(delay)
        return deploy(release, name, proxy)

    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(after_start, "v4", "v4", proxy_a, max(0.0, -offset))
        b = pool.submit(after_start, "v1", "v1-again", proxy_b, max(0.0, offset))
        prunes, rollback = a.result(), b.result()

    assert prunes.ok, prunes.output
    assert rollback.ok, rollback.output
    pruned = PRUNED.search(prunes.output)
    assert pruned and int(pruned[1]) > 0, prunes.output  # the prune really ran in the race
    for result in (prunes, rollback):
        files = release_files(result.build_dir / "staticfiles")
        for key, path in files.items():
            body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert body == path.read_bytes(), key
