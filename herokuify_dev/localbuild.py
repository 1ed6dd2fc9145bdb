"""Build an app directory through the buildpack's bin/detect, bin/compile and bin/release the way
the Heroku platform does, after Heroku's own heroku/python or a stand-in for it.

    python -m herokuify_dev.localbuild APP_DIR [--worktree] [--env NAME=VALUE] [--serve] ...

It builds what a push sends (pushed.py: HEAD in a git repository, less what .slugignore names),
configured as the README's quickstart configures Heroku (DISABLE_COLLECTSTATIC=1 unless --env
says otherwise). With no bucket in the shell or in --env, it starts a local S3 server whose
bucket, like the build's CACHE_DIR, is kept for the app's next run (see localstate.py): a second
run is a redeploy. --serve then runs the slug as a web dyno (serve.py) until Ctrl-C.
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from herokuify_buildpack import config as buildpack_config
from herokuify_buildpack.bucket import aclrefusal, pruning, releases
from herokuify_buildpack.output import counted
from herokuify_dev.approot import in_app_root
from herokuify_dev.envdir import write_env_dir
from herokuify_dev.herokupython import (
    WHERE_IT_IS,
    CacheSeeds,
    PythonBuildpack,
    RealHerokuPython,
    Step,
    default_python,
    serving_runtimes,
    vendored_buildpack,
)
from herokuify_dev.localstate import (
    DEFAULT_STATE_ROOT,
    AppState,
    Listing,
    StateBusy,
    restore_bucket,
    save_bucket,
)
from herokuify_dev.pushed import NothingToPush, not_pushed, write_pushed
from herokuify_dev.pythons import PythonNotFound, python_for, requested_python
from herokuify_dev.s3server import FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY, running_s3_server
from herokuify_dev.serve import serve
from herokuify_dev.slugignore import Pruned, prune
from herokuify_dev.standin import StandIn
from herokuify_dev.transcript import Transcript, run

REPO_ROOT = Path(__file__).resolve().parents[1]
STACK = "heroku-24"
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"
BUCKET_VARS = buildpack_config.names_of("bucket")
LOCAL_BUCKET = "herokuify-local"
# What a copy of the app leaves out, as shutil.copytree's ``ignore`` takes it.
Ignore = Callable[[str, list[str]], Iterable[str]]
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
    release_metadata: str = ""  # bin/release's YAML, which the platform reads

    @property
    def ok(self) -> bool:
        """Every step ran and passed: a build stops at its first failed step."""
        return bool(self.returncodes) and all(code == 0 for code in self.returncodes.values())


def platform_step(
    workdir: Path,
    build_dir: Path,
    cache_dir: Path,
    env_dir: Path,
    transcript: Transcript,
    platform_env: Mapping[str, str] | None = None,
) -> Step:
    """The folders and environment the platform gives a classic compile: a clean environment
    with HOME=/app, and a private /app (``workdir``/app) shared by the build's buildpacks.
    ``platform_env``: what else the platform's build environment holds, as a Dokku host on
    ECS gives its build containers the task's AWS_CONTAINER_CREDENTIALS_* variables."""
    app_root = workdir / "app"
    app_root.mkdir(parents=True, exist_ok=True)
    env = {**(platform_env or {}), "PATH": CLEAN_PATH, "HOME": "/app", "STACK": STACK}
    return Step(
        build_dir, cache_dir, env_dir, app_root, workdir / "python-buildpack", env, transcript
    )


def build_app(
    app_dir: Path,
    config_vars: Mapping[str, str | bytes],
    python_buildpack: PythonBuildpack,
    cache_dir: Path | None = None,
    workdir: Path | None = None,
    buildpack_dir: Path = REPO_ROOT,
    stream: Transcript | None = None,
    platform_env: Mapping[str, str] | None = None,
    ignore: Ignore | None = not_pushed,
) -> BuildResult:
    """Build `app_dir` in a fresh BUILD_DIR under `workdir` (a new temporary one if None), after
    ``python_buildpack`` (heroku/python or its stand-in). Pass the CACHE_DIR of an earlier build
    to simulate a redeploy. The caller starts any S3 server. ``platform_env``: see
    ``platform_step``. ``ignore``: what the copy of ``app_dir`` leaves out; None when ``app_dir``
    is already what a push sends (pushed.py). As on Heroku, what the app's .slugignore names is
    removed before the buildpacks run."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="herokuify-build-")).resolve()
    build_dir, env_dir = workdir / "build", workdir / "env"
    cache_dir = (cache_dir or workdir / "cache").resolve()
    shutil.copytree(app_dir, build_dir, symlinks=True, ignore=ignore)
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_env_dir(env_dir, config_vars)
    transcript = stream or Transcript()
    if (pruned := prune(build_dir)) is not None:
        _show_pruned(pruned, transcript)
    step = platform_step(workdir, build_dir, cache_dir, env_dir, transcript, platform_env)
    bin_dir = buildpack_dir / "bin"

    def python_step() -> int:
        try:
            return python_buildpack.compile(step)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            transcript.error(f"{python_buildpack.label} failed: {exc}")
            return 1

    def detect_step() -> int:
        # The platform runs detect quietly and shows what it printed in its own words.
        quiet = Transcript(io.StringIO())
        code = run([bin_dir / "detect", build_dir], quiet, step.env)
        if code == 0:
            transcript.step(f"{quiet.text.strip() or buildpack_dir.name} app detected")
        else:
            transcript.write(quiet.text)
            transcript.error(f"App not compatible with buildpack: {buildpack_dir}")
        return code

    def compile_step() -> int:
        command, env = next_compile(step, bin_dir)
        code = run(command, transcript, env)
        if code != 0:
            transcript.error("Push rejected, failed to compile app.")
        return code

    def release_step() -> int:
        # bin/release's stdout is YAML for the platform, which reads it and shows none of it.
        done = subprocess.run(
            [bin_dir / "release", build_dir],
            env=dict(step.env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )
        transcript.write(done.stderr.decode("utf-8", errors="replace"))
        result.release_metadata = done.stdout.decode("utf-8", errors="replace")
        return done.returncode

    result = BuildResult(build_dir, cache_dir, env_dir)
    steps = {
        "heroku/python": python_step,
        "detect": detect_step,
        "compile": compile_step,
        "release": release_step,
    }
    for name, run_step in steps.items():
        start = len(transcript.text)
        result.returncodes[name] = run_step()
        result.outputs[name] = transcript.text[start:]
        if result.returncodes[name] != 0:
            break  # a failed step ends the build, as on the platform
    result.output = transcript.text
    return result


def _show_pruned(pruned: Pruned, transcript: Transcript) -> None:
    # The slug compiler's own line (slugignore.py); the rest is for a local build only.
    transcript.step(f"Deleting {len(pruned.removed)} files matching .slugignore patterns.")
    for negation in pruned.negations:
        transcript.error(f"{negation}: Heroku does not support negated .slugignore patterns")


def next_compile(step: Step, bin_dir: Path = REPO_ROOT / "bin") -> tuple[list[str], dict[str, str]]:
    """The command and environment of this buildpack's bin/compile after the Python buildpack
    of ``step``."""
    command = [bin_dir / "compile", step.build_dir, step.cache_dir, step.env_dir]
    return after_python(step, command), dict(step.env)


def after_python(
    step: Step, command: Sequence[str | os.PathLike[str]], cwd: str | os.PathLike[str] = "/"
) -> list[str]:
    """``command`` as the next buildpack runs: the Python buildpack's export file sourced first,
    in the build's /app, from ``cwd``."""
    bash = shutil.which("bash", path=CLEAN_PATH) or "bash"
    sourced = [bash, "-c", SOURCE_EXPORT, step.export_file, *command]
    return in_app_root(step.app_root, sourced, cwd)


# The command line -------------------------------------------------------------------------


def _bucket_config(env_args: Mapping[str, str], caller_env: Mapping[str, str]) -> dict[str, str]:
    """S3 config vars from the caller's environment, when it names a bucket and --env does not:
    only the names the buildpack reads, so that the shell's own AWS_CA_BUNDLE or AWS_PROFILE,
    which a dyno would not have, stay out of the build."""
    if any(env_args.get(name) for name in BUCKET_VARS):
        return {}
    if not any(caller_env.get(name) for name in BUCKET_VARS):
        return {}
    return {
        name: caller_env[name]
        for name in buildpack_config.all_names()
        if name.startswith(("AWS_", "BUCKETEER_")) and name in caller_env and name not in env_args
    }


def _uses_local_bucket(env_args: Mapping[str, str], caller_env: Mapping[str, str]) -> bool:
    no_bucket_given = not any(env_args.get(name) for name in BUCKET_VARS)
    return no_bucket_given and not _bucket_config(env_args, caller_env)


def _unpassed_switches(env_args: Mapping[str, str], caller_env: Mapping[str, str]) -> list[str]:
    """The buildpack's HEROKUIFY_* switches set in the shell: a build, on the platform as here,
    sees only its config vars."""
    return sorted(
        name for name in caller_env if name.startswith("HEROKUIFY_") and name not in env_args
    )


def _disable_collectstatic(env_args: dict[str, str], platform: str) -> None:
    """DISABLE_COLLECTSTATIC=1 unless --env sets it, as the README's quickstart (and its Dokku
    section) sets it: heroku/python's own collectstatic runs with the app's settings as they
    are, and fails on a fresh startproject app, which has no STATIC_ROOT. A CNB build's
    heroku/python reads no such switch."""
    if platform == "cnb" or "DISABLE_COLLECTSTATIC" in env_args:
        return
    env_args["DISABLE_COLLECTSTATIC"] = "1"
    print(
        "-----> DISABLE_COLLECTSTATIC=1, as the quickstart sets it: heroku/python's own "
        "collectstatic is skipped (--env DISABLE_COLLECTSTATIC=0 runs it)"
    )


@contextlib.contextmanager
def _s3_for_build(
    env_args: Mapping[str, str], state: AppState | None, cache_dir: Path | None
) -> Iterator[dict[str, str]]:
    """The S3 config vars for the build, starting a local moto server when none are given; its
    bucket starts with what ``state`` kept of the last run, and is kept for the next."""
    if state is None:
        yield _bucket_config(env_args, os.environ)
        return
    with running_s3_server(port=state.port) as server:
        if server.port != state.port and state.port is not None:
            print(f" !     Port {state.port} is taken: URLs in the built files change this run")
        state.keep_port(server.port)
        server.create_bucket(LOCAL_BUCKET)
        client = server.client()
        restored = restore_bucket(client, LOCAL_BUCKET, state.bucket_dir)
        shown = (
            f"{len(restored)} objects kept from the last run (--fresh empties it)"
            if restored
            else "empty, as on a first push"
        )
        print(f"-----> Local S3 (moto) at {server.endpoint_url}, bucket {LOCAL_BUCKET}: {shown}")
        try:
            yield {
                "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
                "AWS_STORAGE_BUCKET_NAME": LOCAL_BUCKET,
                "AWS_S3_REGION_NAME": "us-east-1",
                "AWS_S3_ENDPOINT_URL": server.endpoint_url,
            }
        finally:
            _keep_bucket(client, state, restored, cache_dir)


def _keep_bucket(client: Any, state: AppState, restored: Listing, cache_dir: Path | None) -> None:
    """Saves the bucket however the build ended, Ctrl-C and errors included: the kept CACHE_DIR
    already records each upload, and the next run trusts it for what the bucket holds. When
    the bucket cannot be saved, that CACHE_DIR goes, so the two never disagree."""
    try:
        _print_bucket_summary(client)
        save_bucket(client, LOCAL_BUCKET, state.bucket_dir, restored)
    except BaseException:
        if cache_dir == state.cache_dir:
            shutil.rmtree(state.cache_dir, ignore_errors=True)
            print(f" !     The local bucket could not be kept: emptied {state.cache_dir} too")
        raise
    print(f"       kept for the next run in {state.folder} (--fresh empties it)")


def _print_bucket_summary(client: Any) -> None:
    """What the build left in the local bucket, by top-level prefix (the server ends after)."""
    keys: dict[str, list[str]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=LOCAL_BUCKET):
        for obj in page.get("Contents", []):
            top = obj["Key"].split("/", 1)[0] if "/" in obj["Key"] else ""
            keys.setdefault(top, []).append(obj["Key"])
    print(f"-----> s3://{LOCAL_BUCKET}/ now holds:")
    if not keys:
        print("       nothing")
    for top, held in sorted(keys.items()):
        shown = f"{top}/" if top else "(top level)"
        print(f"       {shown} {len(held)} object(s){_kinds(top, held)}")


def _kinds(top: str, keys: list[str]) -> str:
    """``keys`` told apart, when the build's bookkeeping is among them (see releases.py): the
    build's "Done: N files uploaded" counts files only."""
    if not top or not any(key.startswith(releases.bookkeeping_prefix(top)) for key in keys):
        return ""
    kinds = {
        "release record": releases.records_prefix(top),
        "build intent": releases.intents_prefix(top),
        "prune marker": pruning.prunes_prefix(top),
        "ACL refusal note": aclrefusal.note_key(top),
    }
    counts = {kind: sum(key.startswith(start) for key in keys) for kind, start in kinds.items()}
    book = releases.bookkeeping_prefix(top)
    files = sum(not key.startswith(book) for key in keys)
    other = len(keys) - files - sum(counts.values())  # bookkeeping of a later version
    parts = [counted(files, "file")]
    parts += [counted(count, kind) for kind, count in counts.items() if count]
    parts += [counted(other, "other bookkeeping object")] if other else []
    return ": " + ", ".join(parts[:-1]) + " and " + parts[-1]


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
    parser.add_argument(
        "--python",
        type=_executable,
        help="base Python of the heroku/python stand-in (default: the one the app's "
        ".python-version or runtime.txt names, else the running one)",
    )
    parser.add_argument("--django", help='a pip constraint, e.g. "Django>=4.2,<4.3"')
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a config var, as `heroku config:set NAME=VALUE` sets it (repeat for more)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="CACHE_DIR to use (default: with the local bucket, the one kept for the app; "
        "else a new one)",
    )
    parser.add_argument("--keep", action="store_true", help="keep BUILD_DIR afterwards")
    parser.add_argument(
        "--worktree",
        action="store_true",
        help="in a git repository, build the working tree, uncommitted changes included, less "
        "what .gitignore names (default: HEAD, as git push sends it)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="empty the local bucket and CACHE_DIR kept from the app's last run: a first push",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_ROOT,
        help="where each app's local bucket and CACHE_DIR are kept between runs "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--release",
        action="store_true",
        help="after a build that succeeds, run the release phase in the slug, as Heroku runs "
        "the Procfile's release process in a one-off dyno",
    )
    parser.add_argument(
        "--promote-to",
        metavar="BUCKET",
        help="after a build that succeeds, release its slug to another bucket of the local S3 "
        "server, as a pipeline promotes staging's slug to production's app: the release "
        "phase, then doctor in the slug against that bucket",
    )
    parser.add_argument(
        "--release-slug",
        type=Path,
        metavar="BUILD_DIR",
        help="build nothing: release an earlier build's slug (a BUILD_DIR that --keep kept) to "
        "the app's local bucket, as `heroku rollback` does, or to --promote-to's; then doctor",
    )
    parser.add_argument(
        "--doctor",
        action="store_true",
        help="after a build that succeeds, run `python -m herokuify_buildpack doctor` against "
        "the same bucket (its findings are shown; the exit code stays the build's)",
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="with --doctor: `doctor --apply`, which adds the bucket policy, CORS or lifecycle "
        "rule its failed checks need; the local bucket keeps them for the next run",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="after a build that succeeds, run the slug as a web dyno (the Procfile's web "
        "process, else Django's runserver) with the config vars, and print its URL; Ctrl-C "
        "stops it and the local S3 server",
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
    if unpassed := _unpassed_switches(env_args, os.environ):
        print(
            f" !     Not passed from the shell: {', '.join(unpassed)}. A build sees only its "
            "config vars: pass each with --env NAME=VALUE, as `heroku config:set` would."
        )
    state = None
    if _uses_local_bucket(env_args, os.environ):
        state = AppState.for_app(app_dir, args.state_dir.absolute())
    elif args.fresh or args.promote_to:
        parser.error("--fresh and --promote-to work on the local S3 server's buckets only")
    if (args.release or args.promote_to) and args.platform != "classic":
        parser.error("--release and --promote-to run Heroku's release phase: --platform classic")
    if args.apply and not args.doctor:
        parser.error("--apply goes with --doctor: it adds what doctor's failed checks need")
    if args.serve and (args.platform != "classic" or args.release_slug):
        parser.error("--serve runs the slug this run builds as a Heroku dyno: --platform classic")
    workdir = Path(tempfile.mkdtemp(prefix="herokuify-build-"))
    try:
        source = workdir / "source"
        if not args.release_slug:
            print(write_pushed(app_dir, source, args.worktree))
            _disable_collectstatic(env_args, args.platform)
        with contextlib.ExitStack() as held:
            if state is not None:
                held.enter_context(state.locked())
                if args.fresh:
                    state.forget()
                if args.cache_dir is None:
                    args.cache_dir = state.cache_dir
            python_buildpack = None if args.release_slug else _python_buildpack(source, args, held)
            if python_buildpack is None and not args.release_slug:
                return 1
            s3_vars = held.enter_context(_s3_for_build(env_args, state, args.cache_dir))
            config = {**s3_vars, **env_args}
            print("-----> Config vars: " + ", ".join(_shown(k, v) for k, v in config.items()))
            if args.release_slug:
                return _release_phase(args.release_slug, config, args.promote_to)
            assert python_buildpack is not None
            platform = PLATFORMS[args.platform]
            built = platform(source, config, python_buildpack, workdir, args)
            if built.ok and args.doctor:
                _doctor(config, args.apply)
            served = 0
            if built.ok and args.serve:
                assert built.slug is not None  # --serve is for the classic platform only
                served = serve(built.slug, config)
        status = "succeeded" if built.ok else "FAILED"
        shown_steps = ", ".join(f"{step} {code}" for step, code in built.steps.items())
        print(f"-----> Build {status} on the {args.platform} platform ({shown_steps})")
        for line in built.folders:
            print(f"       {line}")
        if bucket := next((config[name] for name in BUCKET_VARS if config.get(name)), None):
            print(f"       bucket {bucket}")
        return 0 if built.ok and served == 0 else 1
    except StateBusy as exc:
        print(f" !     {exc}: wait for it to end")
        return 1
    except NothingToPush as exc:
        print(f" !     {exc}")
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _python_buildpack(
    app_dir: Path, args: Any, held: contextlib.ExitStack
) -> PythonBuildpack | None:
    """What builds the app's Python first: Heroku's own heroku/python where it can run here,
    as on Heroku; else (or with --python or --django, or for a CNB build) its stand-in, which
    the build log names. None after saying why neither can."""
    if args.platform == "cnb" or args.python or args.django:
        return _standin(app_dir, args)
    source = vendored_buildpack()
    why_not = _why_heroku_python_cannot_run(app_dir, source)
    if why_not is not None:
        if args.platform == "dokku":
            print(f" !     A Dokku build runs Heroku's heroku/python, and {why_not}")
            return None
        print(f" !     Building after heroku/python's stand-in: {why_not}")
        return _standin(app_dir, args)
    assert source is not None
    print(f"-----> heroku/python: Heroku's own buildpack, from {source}")
    runtimes = held.enter_context(serving_runtimes(source))
    # A new CACHE_DIR starts from the last build of the same requirements and Python, here or in
    # the tests: heroku/python checks what it restores, as it does on Heroku.
    return RealHerokuPython(source, runtimes, CacheSeeds())


def _why_heroku_python_cannot_run(app_dir: Path, source: Path | None) -> str | None:
    """Why Heroku's heroku/python cannot build this app here, in words for one line; None if
    it can: it is on this machine, and so is a Python of the version it will install."""
    if source is None:
        return f"Heroku's heroku-buildpack-python is not on this machine ({WHERE_IT_IS})"
    try:
        request = requested_python(app_dir)
    except ValueError as exc:
        return str(exc)
    wanted = request.version if request else default_python(source)
    try:
        python_for(wanted)
    except PythonNotFound:
        asked = f"the app's {request.source} asks for it" if request else "its default"
        return (
            f"it would install Python {wanted} ({asked}), which is not on this machine. "
            "Pin a Python you have in .python-version"
        )
    return None


def _standin(app_dir: Path, args: Any) -> StandIn | None:
    python = args.python or _app_python(app_dir)
    if python is None:
        return None
    return StandIn(app_dir, python=python, django=args.django)


def _app_python(app_dir: Path) -> Path | None:
    """The stand-in's base Python when --python is not given: the version the app asks for,
    as heroku/python reads it, else the running Python. None after saying why there is none."""
    try:
        request = requested_python(app_dir)
    except ValueError as exc:
        print(f" !     {exc}: fix it, or pass --python PATH")
        return None
    if request is None:
        return Path(sys.executable)
    try:
        python = python_for(request.version)
    except PythonNotFound:
        print(
            f" !     The app's {request.source} asks for Python {request.version}, which is not "
            f"installed here: pyenv install {request.version}, or pass --python PATH"
        )
        return None
    print(f"-----> Python {request.version}, as the app's {request.source} asks: {python}")
    return python


def _doctor(config: Mapping[str, str], apply: bool) -> None:
    """The doctor a user runs on a dyno, here with the build's config vars and bucket."""
    env = {"PATH": CLEAN_PATH, "PYTHONPATH": str(REPO_ROOT), **config}
    command = [sys.executable, "-m", "herokuify_buildpack", "doctor"]
    subprocess.run([*command, "--apply"] if apply else command, env=env, check=False)


@dataclass
class Outcome:
    ok: bool
    steps: dict[str, int]  # exit code by step, in the order run
    folders: list[str]  # to show
    slug: Path | None = None  # a classic build's BUILD_DIR, which --serve runs


def _classic(
    app_dir: Path, config: dict[str, str], python: PythonBuildpack, workdir: Path, args: Any
) -> Outcome:
    result = build_app(app_dir, config, python, args.cache_dir, workdir, ignore=None)
    if result.ok and (args.release or args.promote_to):
        released = _release_phase(result.build_dir, config, args.promote_to)
        result.returncodes["release phase"] = released
    kept = "kept" if args.keep else "removed"
    kept_cache = "kept" if args.keep or args.cache_dir is not None else "removed"
    folders = [
        f"BUILD_DIR {result.build_dir} ({kept})",
        f"CACHE_DIR {result.cache_dir} ({kept_cache})",
    ]
    return Outcome(result.ok, result.returncodes, folders, result.build_dir)


def _release_phase(slug: Path, config: dict[str, str], promote_to: str | None) -> int:
    """The release phase in a one-off dyno on the slug: with the build's config vars, or with
    another bucket's (a promotion), then doctor in the slug; the release phase's exit code."""
    from herokuify_buildpack.releasephase import RELEASE_COMMAND
    from herokuify_dev.dyno import run_one_off
    from herokuify_dev.s3server import make_client

    if promote_to:
        make_client(config["AWS_S3_ENDPOINT_URL"]).create_bucket(Bucket=promote_to)
        config = {**config, "AWS_STORAGE_BUCKET_NAME": promote_to}
        print(f"-----> Promoting the slug to bucket {promote_to}: its release phase, then doctor")
    code = 0
    for command in (RELEASE_COMMAND, "python -m herokuify_buildpack doctor"):
        done = run_one_off(slug, config, command)
        print(f"-----> $ {command}\n{done.stdout}{done.stderr}", end="")
        code = code or (done.returncode if command == RELEASE_COMMAND else 0)
    return code


def _cnb(
    app_dir: Path, config: dict[str, str], python: PythonBuildpack, workdir: Path, args: Any
) -> Outcome:
    from herokuify_dev.cnbbuild import build_app_cnb

    assert isinstance(python, StandIn)  # the CNB build's heroku/python is the stand-in's
    build = build_app_cnb(app_dir, config, python, workdir / "cnb")
    kept = "kept" if args.keep else "removed"
    folders = [
        f"app {build.lifecycle.workspace} ({kept})",
        f"layers {build.lifecycle.layers} ({kept})",
    ]
    return Outcome(build.ok, build.result.returncodes, folders)


def _dokku(
    app_dir: Path, config: dict[str, str], python: PythonBuildpack, workdir: Path, args: Any
) -> Outcome:
    from herokuify_dev.herokuish import build_app_dokku, dokku_host

    assert isinstance(python, RealHerokuPython)  # herokuish runs Heroku's own
    with dokku_host(python) as host:
        result = build_app_dokku(app_dir, config, host, ignore=None)
    return Outcome(result.ok, result.returncodes, ["the build and its /cache volume (removed)"])


PLATFORMS = {"classic": _classic, "cnb": _cnb, "dokku": _dokku}


if __name__ == "__main__":
    sys.exit(main())
