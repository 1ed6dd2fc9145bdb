"""Build an app directory through the buildpack's bin/detect, bin/compile and bin/release the way
the Heroku platform does, after a stand-in for heroku/python.

    python -m herokuify_dev.localbuild APP_DIR [--python PATH] [--django SPEC] [--env NAME=VALUE]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from herokuify_dev.envdir import write_env_dir
from herokuify_dev.s3server import FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY, running_s3_server
from herokuify_dev.standin import StandIn
from herokuify_dev.transcript import Transcript, run

REPO_ROOT = Path(__file__).resolve().parents[1]
STACK = "heroku-24"
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"
IGNORED = (".git", "__pycache__", "staticfiles", ".heroku", "*.sqlite3", ".venv")
BUCKET_VARS = ("AWS_STORAGE_BUCKET_NAME", "BUCKETEER_BUCKET_NAME")
LOCAL_BUCKET = "herokuify-local"
# How the next buildpack's compile starts: with the previous buildpack's export file sourced.
SOURCE_EXPORT = 'set -e; source "$0"; exec "$@"'


@dataclass
class BuildResult:
    build_dir: Path
    cache_dir: Path
    env_dir: Path
    returncodes: dict[str, int] = field(default_factory=dict)  # by step, in the order run
    outputs: dict[str, str] = field(default_factory=dict)  # each step's own output
    output: str = ""  # everything shown, in order

    @property
    def ok(self) -> bool:
        steps = ("heroku/python", "detect", "compile", "release")
        return all(self.returncodes.get(step) == 0 for step in steps)


def build_app(
    app_dir: Path,
    config_vars: Mapping[str, str | bytes],
    standin: StandIn,
    cache_dir: Path | None = None,
    workdir: Path | None = None,
    buildpack_dir: Path = REPO_ROOT,
    stream: Transcript | None = None,
) -> BuildResult:
    """Build `app_dir` in a fresh BUILD_DIR under `workdir` (a new temporary one if None). Pass
    the CACHE_DIR of an earlier build to simulate a redeploy. The caller starts any S3 server."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="herokuify-build-")).resolve()
    build_dir, env_dir, home = workdir / "build", workdir / "env", workdir / "home"
    cache_dir = (cache_dir or workdir / "cache").resolve()
    shutil.copytree(app_dir, build_dir, symlinks=True, ignore=shutil.ignore_patterns(*IGNORED))
    for directory in (cache_dir, home):
        directory.mkdir(parents=True, exist_ok=True)
    write_env_dir(env_dir, config_vars)
    env = {"PATH": CLEAN_PATH, "HOME": str(home), "STACK": STACK}
    transcript = stream or Transcript()
    standin_dir = workdir / "standin-buildpack"
    bin_dir = buildpack_dir / "bin"
    compile_cmd: list[str | os.PathLike[str]] = [shutil.which("bash", path=CLEAN_PATH) or "bash"]
    compile_cmd += ["-c", SOURCE_EXPORT, standin_dir / "export", bin_dir / "compile"]
    compile_cmd += [build_dir, cache_dir, env_dir]

    def python_step() -> int:
        try:
            return standin.compile(build_dir, env_dir, env, transcript, standin_dir)[0]
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            transcript.error(f"The heroku/python stand-in failed: {exc}")
            return 1

    def detect_step() -> int:
        # The platform runs detect quietly and shows what it printed in its own words.
        quiet = Transcript(io.StringIO())
        code = run([bin_dir / "detect", build_dir], quiet, env)
        if code == 0:
            transcript.step(f"{quiet.text.strip() or buildpack_dir.name} app detected")
        else:
            transcript.write(quiet.text)
            transcript.error(f"App not compatible with buildpack: {buildpack_dir}")
        return code

    def compile_step() -> int:
        code = run(compile_cmd, transcript, env)
        if code != 0:
            transcript.error("Push rejected, failed to compile app.")
        return code

    def release_step() -> int:
        return run([bin_dir / "release", build_dir], transcript, env)

    result = BuildResult(build_dir, cache_dir, env_dir)
    steps = {
        "heroku/python": python_step,
        "detect": detect_step,
        "compile": compile_step,
        "release": release_step,
    }
    for name, step in steps.items():
        start = len(transcript.text)
        result.returncodes[name] = step()
        result.outputs[name] = transcript.text[start:]
        if result.returncodes[name] != 0:
            break  # a failed step ends the build, as on the platform
    result.output = transcript.text
    return result


def direct_compile(
    build_dir: Path, cache_dir: Path, env_dir: Path, home: Path
) -> tuple[list[str | os.PathLike[str]], dict[str, str]]:
    """The command and environment of bin/compile run on its own, as a buildpack list without
    detect runs it: the slug's Python first on PATH, as heroku/python's export file leaves it."""
    python_bin = build_dir / ".heroku" / "python" / "bin"
    env = {"PATH": f"{python_bin}:{CLEAN_PATH}", "HOME": str(home), "STACK": STACK}
    return [REPO_ROOT / "bin" / "compile", build_dir, cache_dir, env_dir], env


# The command line -------------------------------------------------------------------------


def _bucket_config(env_args: Mapping[str, str], caller_env: Mapping[str, str]) -> dict[str, str]:
    """S3 config vars from the caller's environment, when it names a bucket and --env does not."""
    if any(env_args.get(name) for name in BUCKET_VARS):
        return {}
    if not any(caller_env.get(name) for name in BUCKET_VARS):
        return {}
    return {
        name: value
        for name, value in caller_env.items()
        if name.startswith(("AWS_", "BUCKETEER_")) and name not in env_args
    }


@contextlib.contextmanager
def _s3_for_build(env_args: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """The S3 config vars for the build, starting a local moto server when none are given."""
    passed = _bucket_config(env_args, os.environ)
    if passed or any(env_args.get(name) for name in BUCKET_VARS):
        yield passed
        return
    with running_s3_server() as server:
        server.create_bucket(LOCAL_BUCKET)
        print(f"-----> Local S3 (moto) at {server.endpoint_url}, bucket {LOCAL_BUCKET}")
        yield {
            "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
            "AWS_STORAGE_BUCKET_NAME": LOCAL_BUCKET,
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_S3_ENDPOINT_URL": server.endpoint_url,
        }
        _print_bucket_summary(server.client())


def _print_bucket_summary(client: Any) -> None:
    """What the build left in the local bucket, by top-level prefix (the server ends after)."""
    counts: dict[str, int] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=LOCAL_BUCKET):
        for obj in page.get("Contents", []):
            top = obj["Key"].split("/", 1)[0] + "/" if "/" in obj["Key"] else obj["Key"]
            counts[top] = counts.get(top, 0) + 1
    print(f"-----> s3://{LOCAL_BUCKET}/ now holds:")
    for prefix, count in sorted(counts.items()) or [("(nothing)", 0)]:
        print(f"       {prefix} {count} object(s)")


def _shown(name: str, value: str) -> str:
    secret = any(word in name for word in ("SECRET", "PASSWORD", "TOKEN", "KEY")) or "@" in value
    return f"{name}=(hidden)" if secret else f"{name}={value}"


def _executable(name: str) -> Path:
    found = shutil.which(name)
    if found is None:
        raise argparse.ArgumentTypeError(f"no such executable: {name}")
    return Path(found).absolute()


def _parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise argparse.ArgumentTypeError(f"--env wants NAME=VALUE, not {pair!r}")
        env[name] = value
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m herokuify_dev.localbuild",
        description="Build an app directory with this buildpack the way Heroku does.",
    )
    parser.add_argument("app_dir", type=Path, help="the app: requirements.txt at its root")
    parser.add_argument(
        "--platform",
        choices=PLATFORMS,
        default="classic",
        help="classic: Heroku's buildpack API (the default); cnb: Cloud Native Buildpacks, as "
        "Heroku Fir and pack build run them; dokku: herokuish, as root",
    )
    parser.add_argument("--python", type=_executable, help="base Python")
    parser.add_argument("--django", help='a pip constraint, e.g. "Django>=4.2,<4.3"')
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--cache-dir", type=Path, help="CACHE_DIR to reuse (a redeploy)")
    parser.add_argument("--keep", action="store_true", help="keep BUILD_DIR afterwards")
    parser.add_argument(
        "--doctor",
        action="store_true",
        help="after a build that succeeds, run `python -m herokuify_buildpack doctor` against "
        "the same bucket (its findings are shown; the exit code stays the build's)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        env_args = _parse_env(args.env)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    app_dir = args.app_dir.resolve()
    if not (app_dir / "requirements.txt").is_file():
        parser.error(f"{app_dir} has no requirements.txt")
    # Dokku's build runs as another user, who cannot reach a Python under root's home.
    python = args.python or Path("/usr/bin/python3" if args.platform == "dokku" else sys.executable)
    standin = StandIn(app_dir, python=python, django=args.django)
    workdir = Path(tempfile.mkdtemp(prefix="herokuify-build-"))
    try:
        with _s3_for_build(env_args) as s3_vars:
            config = {**s3_vars, **env_args}
            print("-----> Config vars: " + ", ".join(_shown(k, v) for k, v in config.items()))
            ok, steps, folders = PLATFORMS[args.platform](app_dir, config, standin, workdir, args)
            if ok and args.doctor:
                _doctor(config)
        status = "succeeded" if ok else "FAILED"
        shown_steps = ", ".join(f"{step} {code}" for step, code in steps.items())
        print(f"-----> Build {status} on the {args.platform} platform ({shown_steps})")
        for line in folders:
            print(f"       {line}")
        if bucket := next((config[name] for name in BUCKET_VARS if config.get(name)), None):
            print(f"       bucket {bucket}")
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _doctor(config: Mapping[str, str]) -> None:
    """The doctor a user runs on a dyno, here with the build's config vars and bucket."""
    env = {"PATH": CLEAN_PATH, "PYTHONPATH": str(REPO_ROOT), **config}
    subprocess.run([sys.executable, "-m", "herokuify_buildpack", "doctor"], env=env, check=False)


Outcome = tuple[bool, dict[str, int], list[str]]  # ok, exit code by step, folders to show


def _classic(
    app_dir: Path, config: dict[str, str], standin: StandIn, workdir: Path, args: Any
) -> Outcome:
    result = build_app(app_dir, config, standin, args.cache_dir, workdir)
    kept = "kept" if args.keep else "removed"
    kept_cache = "kept" if args.keep or args.cache_dir is not None else "removed"
    folders = [
        f"BUILD_DIR {result.build_dir} ({kept})",
        f"CACHE_DIR {result.cache_dir} ({kept_cache})",
    ]
    return result.ok, result.returncodes, folders


def _cnb(
    app_dir: Path, config: dict[str, str], standin: StandIn, workdir: Path, args: Any
) -> Outcome:
    from herokuify_dev.cnbbuild import build_app_cnb

    build = build_app_cnb(app_dir, config, standin, workdir / "cnb")
    kept = "kept" if args.keep else "removed"
    folders = [
        f"app {build.lifecycle.workspace} ({kept})",
        f"layers {build.lifecycle.layers} ({kept})",
    ]
    return build.ok, build.result.returncodes, folders


def _dokku(
    app_dir: Path, config: dict[str, str], standin: StandIn, workdir: Path, args: Any
) -> Outcome:
    from herokuify_dev.herokuish import build_app_dokku, dokku_host

    with dokku_host() as host:
        result = build_app_dokku(app_dir, config, standin, host)
    return result.ok, result.returncodes, ["the build and its /cache volume (removed)"]


PLATFORMS = {"classic": _classic, "cnb": _cnb, "dokku": _dokku}


if __name__ == "__main__":
    sys.exit(main())
