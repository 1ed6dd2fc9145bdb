"""Benchmark: herokuify against plain django-storages, Collectfasta and bare boto3, over S3 latency.

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

from bench import measure
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
PINNED = ("Django", "django-storages[s3]", "boto3", "botocore", "s3transfer", "Collectfasta")
TOOLS = ("herokuify", "hashed", "floor", "storages", "collectfasta", "collectfasta-hashed")
HEROKUIFY = "herokuify"
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

    def checkout(self, source: Path, workdir: Path, cache_dir: Path | None = None) -> Step:
        """A new BUILD_DIR as heroku/python leaves it: a fresh copy of the app (new mtimes) with
        Heroku's Python runtime and the app's packages in .heroku/python, and its export file
        for what runs next."""
        build_dir = workdir / "build"
        fresh_copy(source, build_dir)
        cache_dir = cache_dir or workdir / "cache"
        transcript = Transcript(io.StringIO())
        step = platform_step(workdir, build_dir, cache_dir, workdir / "env", transcript)
        self.standin.install_into(step)
        return step

    def measure(
        self,
        s3: S3Env,
        name: str,
        cmd: list[str | os.PathLike[str]],
        env: dict[str, str],
        cwd: Path,
        timeout: float | None = None,
    ) -> tuple[measure.Run, dict[str, int], int]:
        s3.counter.reset()
        log = self.work / "logs" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        print(f"  {name} ...", end=" ", flush=True)
        result = measure.run(cmd, env, cwd, timeout or self.args.timeout, log)
        counts = s3.counter.counts()
        state = f"{result.wall:.1f} s" if result.finished else _unfinished(result)
        print(f"{state}, {_counts_text(counts)}", flush=True)
        return result, counts, s3.counter.max_in_flight


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
    bench: Bench, s3: S3Env, name: str, source: Path, cache_dir: Path, hashed: bool
) -> tuple[measure.Run, dict[str, int], int, Path]:
    """One build through bin/compile in a new BUILD_DIR; also its STATIC_ROOT."""
    step = bench.checkout(source, bench.work / name, cache_dir)
    config_vars = s3.config_vars() | {
        "DISABLE_COLLECTSTATIC": "1",
        "HEROKUIFY_UPLOAD_CONCURRENCY": str(bench.args.concurrency),
    }
    if hashed:
        config_vars["HEROKUIFY_HASHED_NAMES"] = "1"
    write_env_dir(step.env_dir, config_vars)
    # The buildpack's own entry point, as the platform runs it after heroku/python.
    cmd, env = next_compile(step)
    result, counts, in_flight = bench.measure(s3, name, cmd, env, step.build_dir)
    return result, counts, in_flight, step.build_dir / "staticfiles"


def run_herokuify(bench: Bench, hashed: bool) -> None:
    tool = HEROKUIFY_HASHED if hashed else HEROKUIFY
    slug = "hashed" if hashed else "herokuify"
    cache_dir = bench.work / slug / "cache"
    cache_dir.mkdir(parents=True)
    sources = [
        (FIRST, bench.project.root),
        (UNCHANGED, bench.project.root),
        (CHANGED, bench.changed_project),
    ]
    previous: Path | None = None
    with bench.s3() as s3:
        for index, (scenario, source) in enumerate(sources):
            result, counts, in_flight, static_root = herokuify_build(
                bench, s3, f"{slug}-{index}", source, cache_dir, hashed
            )
            row = Row(
                tool,
                scenario,
                result.wall if result.finished else None,
                counts,
                in_flight,
                result.peak_rss_mb,
                result.cpu_seconds,
                reference=(HEROKUIFY, scenario) if hashed else None,
            )
            bench.rows.append(row)
            if not result.finished:
                row.notes.append(_unfinished(result))
                return
            row.expected_puts, row.expected_files, row.files = expected_puts(previous, static_root)
            row.objects_after = len(s3.objects())
            done = _DONE.search(result.output)
            if done:
                row.done_uploaded, row.done_unchanged = int(done[1]), int(done[2])
            row.steps = step_times(result.output)
            upload_started = result.first_line_at("-----> Uploading static files")
            if upload_started is not None:
                row.upload_phase = result.wall - upload_started
            if scenario == CHANGED:
                row.notes.append(f"{len(bench.changed_files)} source files changed")
            if index == 0:
                bench.static_roots[slug] = static_root
            previous = static_root
        if not hashed:
            run_release_phase(bench, s3, static_root.parent)


def run_release_phase(bench: Bench, s3: S3Env, build_dir: Path) -> None:
    """The Procfile's release process after the last redeploy, in a one-off dyno on its slug:
    the ordinary path, which every push runs."""
    cmd = in_dyno(build_dir, RELEASE_COMMAND)
    env = dyno_env(s3.config_vars(), "release", None)
    result, counts, in_flight = bench.measure(s3, "herokuify-release", cmd, env, build_dir)
    row = Row(
        HEROKUIFY,
        RELEASE,
        result.wall if result.finished else None,
        counts,
        in_flight,
        result.peak_rss_mb,
        result.cpu_seconds,
        reference=None,
    )
    if not result.finished:
        row.notes.append(_unfinished(result))
    row.steps = step_times(result.output)
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
        row = Row(
            label,
            UPLOAD_ONLY,
            result.wall if result.finished else None,
            counts,
            in_flight,
            result.peak_rss_mb,
            result.cpu_seconds,
            reference=(reference_tool, FIRST),
        )
        bench.rows.append(row)
        if not result.finished:
            row.notes.append(_unfinished(result))
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
            row = Row(
                tool,
                scenario,
                result.wall if result.finished else None,
                counts,
                in_flight,
                result.peak_rss_mb,
                result.cpu_seconds,
                reference=(reference, scenario),
            )
            row.objects_after = len(s3.objects())
            bench.rows.append(row)
            if result.finished:
                continue
            row.notes.append(f"{_unfinished(result)}; {row.objects_after} objects uploaded")
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


def table(rows: list[Row]) -> str:
    head = "| tool | scenario | wall s | x herokuify | PUT | HEAD | DELETE | LIST | GET | POST "
    head += "| max in flight | CPU s | peak RSS MB | notes |"
    lines = [head, "|" + "---|" * 14]
    for row in rows:
        reference = _find(rows, *row.reference) if row.reference else row
        ratio = ""
        if row.wall is not None and reference is not None and reference.wall:
            ratio = f"{row.wall / reference.wall:.2f}"
        wall = f"{row.wall:.1f}" if row.wall is not None else "not finished"
        counts = " | ".join(str(row.counts.get(kind, 0)) for kind in measure.KINDS)
        lines.append(
            f"| {row.tool} | {row.scenario} | {wall} | {ratio} | {counts} | {row.max_in_flight} "
            f"| {row.cpu_seconds:.1f} | {row.peak_rss_mb:.0f} | {'; '.join(row.notes)} |"
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
    ]
    numbers = ("1", "2", "3", "5/1", "5/2", "5/3", "release")
    for verdict, number in zip(found, numbers, strict=True):
        verdict.target = f"{number}, {verdict.target}"
    return found


def _versions() -> str:
    names = ("Django", "django-storages", "boto3", "s3transfer", "moto", "Collectfasta")
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


def requirements() -> str:
    lines = []
    for spec in PINNED:
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
    parser.add_argument("--concurrency", type=int, default=32, help="herokuify's and the floor's")
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
            "hashed": lambda: run_herokuify(bench, hashed=True),
            "floor": lambda: run_floors(bench),
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
        for tool in TOOLS:  # a fixed order: the floor uploads what herokuify collected
            if tool in args.tools:
                print(f"{tool}:", flush=True)
                steps[tool]()
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
