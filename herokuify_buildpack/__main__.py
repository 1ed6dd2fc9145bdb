"""python -m herokuify_buildpack doctor [--apply] | release [--slug DIR] | delete-prefix"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import herokuify_buildpack.pythonsigning  # noqa: F401  (first: see the module)
from herokuify_buildpack import output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m herokuify_buildpack")
    commands = parser.add_subparsers(dest="command", required=True)
    doctor = commands.add_parser(
        "doctor", help="check the bucket end to end, as the config vars describe it"
    )
    doctor.add_argument(
        "--apply",
        action="store_true",
        help="add the bucket policy, CORS rule and lifecycle rule that failed checks need",
    )
    release = commands.add_parser(
        "release",
        help="the release phase: publish the slug's static files to this app's bucket, unless "
        "its build did already (the Procfile's release: line)",
    )
    release.add_argument(
        "--slug",
        type=Path,
        help="the slug's root (default: the working folder, else $HOME, whichever holds the "
        "build's record)",
    )
    commands.add_parser(
        "delete-prefix",
        help="delete this app's static/ and media/ under HEROKUIFY_PREFIX (app.json's "
        "pr-predestroy script); refuses when it is unset or another app shares it",
    )
    args = parser.parse_args(argv)
    output.setup()
    if args.command == "delete-prefix":
        from herokuify_buildpack.deleteprefix import delete_prefix

        return delete_prefix(os.environ)
    if args.command == "release":
        from herokuify_buildpack.assets.slugrecord import default_candidates
        from herokuify_buildpack.releasephase import release as run_release

        return run_release(os.environ, [args.slug] if args.slug else default_candidates())
    from herokuify_buildpack.assets.slugrecord import RECORD_NAME, default_candidates, slug_root
    from herokuify_buildpack.doctor import doctor as run_doctor

    slug = slug_root(default_candidates())
    return run_doctor(os.environ, args.apply, slug if (slug / RECORD_NAME).is_file() else None)


if __name__ == "__main__":
    sys.exit(main())
