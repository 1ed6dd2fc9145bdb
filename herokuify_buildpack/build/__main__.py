"""Entry points of the build: ``python -m herokuify_buildpack.build compile BUILD CACHE ENV``,
and ``list-bucket CACHE ENV`` for the lister process that bin/compile starts first."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import traceback
from pathlib import Path

from herokuify_buildpack import output
from herokuify_buildpack.build import requirements
from herokuify_buildpack.errors import BuildError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="herokuify_buildpack.build")
    commands = parser.add_subparsers(dest="command", required=True)
    compile_parser = commands.add_parser("compile", help="collect, compress and upload the assets")
    compile_parser.add_argument("build_dir", type=Path)
    compile_parser.add_argument("cache_dir", type=Path)
    compile_parser.add_argument("env_dir", type=Path)
    compile_parser.add_argument(
        "--manage-py", default="", help="manage.py's path in BUILD_DIR, as bin/detect found it"
    )
    compile_parser.add_argument(
        "--lister-fd", type=int, required=True, help="where the list-bucket answers arrive"
    )
    lister_parser = commands.add_parser(
        "list-bucket", help="check the bucket and list static/, answering in JSON lines"
    )
    lister_parser.add_argument("cache_dir", type=Path)
    lister_parser.add_argument("env_dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "list-bucket":
        return list_bucket(args.cache_dir, args.env_dir)

    output.setup()
    missing = requirements.missing_lines()
    if missing:
        output.error("herokuify: the build needs packages the app does not install.")
        output.error("Add to requirements.txt:\n" + "\n".join(missing))
        return 1

    # Imported only now: it needs the packages checked above.
    from herokuify_buildpack.build.compile import BuildPaths, compile_app
    from herokuify_buildpack.upload.lister import ListerAnswers

    paths = BuildPaths(args.build_dir.resolve(), args.cache_dir.resolve(), args.env_dir.resolve())
    # Left open to the end: when a build fails early, a thread may still be reading it.
    lister = ListerAnswers(open(args.lister_fd, "rb"))  # noqa: SIM115
    try:
        compile_app(paths, args.manage_py, lister)
    except BuildError as exc:
        output.error(f"herokuify: {exc}")
        return 1
    except Exception as exc:
        # A bug, not bad input: the traceback helps a report, and is masked like all output.
        output.error(traceback.format_exc())
        output.error(f"herokuify: unexpected {type(exc).__name__}: {exc} (please report this)")
        return 1
    return 0


def list_bucket(cache_dir: Path, env_dir: Path) -> int:
    """The process bin/compile starts first; see herokuify_buildpack.upload.lister."""
    # A process of seconds at most, whose objects nearly all live to its end: botocore's
    # start-up is a tenth faster without the collector.
    gc.disable()
    from herokuify_buildpack.build.configvars import read_env_dir
    from herokuify_buildpack.config import STATIC_PREFIX, ConfigError, S3Config
    from herokuify_buildpack.upload import lister
    from herokuify_buildpack.upload.cuts import ListingCuts
    from herokuify_buildpack.upload.options import UploadSettings

    try:
        config_vars = read_env_dir(env_dir)
        s3 = S3Config.from_env(config_vars.values)
        settings = UploadSettings.from_env(config_vars.values)
    except (ConfigError, BuildError):
        return 1  # the build's process reads the same config vars, and says what is wrong
    cuts = ListingCuts.load(cache_dir, s3.location(STATIC_PREFIX))
    lister.serve(s3, settings, cuts, sys.stdout)
    return 0


if __name__ == "__main__":
    exit_code = main()
    # The build is over, and every file it wrote is closed. Skip the interpreter's teardown,
    # which frees every object Django made, one by one: about 30 ms, a twentieth of an
    # unchanged redeploy.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
