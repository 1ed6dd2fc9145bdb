"""python -m herokuify_buildpack doctor [--apply]"""

from __future__ import annotations

import argparse
import os
import sys

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
    args = parser.parse_args(argv)
    output.setup()
    from herokuify_buildpack.doctor import doctor as run_doctor

    return run_doctor(os.environ, args.apply)


if __name__ == "__main__":
    sys.exit(main())
