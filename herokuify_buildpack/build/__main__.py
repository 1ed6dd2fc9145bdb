"""Entry point of the build: ``python -m herokuify_buildpack.build compile BUILD CACHE ENV``."""

from __future__ import annotations

import argparse
import gc
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
    args = parser.parse_args(argv)

    output.setup()
    missing = requirements.missing_lines()
    if missing:
        output.error("herokuify: the build needs packages the app does not install.")
        output.error("Add to requirements.txt:\n" + "\n".join(missing))
        return 1

    # Imported only now: it needs the packages checked above.
    from herokuify_buildpack.build.compile import BuildPaths, compile_app

    paths = BuildPaths(args.build_dir.resolve(), args.cache_dir.resolve(), args.env_dir.resolve())
    try:
        compile_app(paths, args.manage_py)
    except BuildError as exc:
        output.error(f"herokuify: {exc}")
        return 1
    except Exception as exc:
        # A bug, not bad input: the traceback helps a report, and is masked like all output.
        output.error(traceback.format_exc())
        output.error(f"herokuify: unexpected {type(exc).__name__}: {exc} (please report this)")
        return 1
    return 0


if __name__ == "__main__":
    exit_code = main()
    # The build is over. Spare Python's collection at exit a walk over every object Django and
    # boto3 made: a tenth of a second, a tenth of an unchanged redeploy's time.
    gc.freeze()
    sys.exit(exit_code)
