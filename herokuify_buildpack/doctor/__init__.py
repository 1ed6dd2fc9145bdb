"""`python -m herokuify_buildpack doctor [--apply]`: the bucket checked end to end, as the app's
config vars describe it, locally or on a dyno. One line per check; a non-zero exit when one
fails. It never prints a secret: its output is masked as the build's is."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from herokuify_buildpack import output
from herokuify_buildpack.bucket import credentials
from herokuify_buildpack.config import S3Config, secret_values
from herokuify_buildpack.doctor.apply import apply_fixes
from herokuify_buildpack.doctor.checks import Finding, run_checks
from herokuify_buildpack.errors import HerokuifyError


def doctor(env: Mapping[str, str], apply: bool, slug: Path | None = None) -> int:
    """``slug``: the root of the slug it runs in, if it runs in one: then the release's files
    are checked too."""
    output.redact.add(secret_values(env))
    try:
        s3 = S3Config.from_env(env)
        found = credentials.source(s3, env)
    except HerokuifyError as exc:
        output.error(f"herokuify: {exc}")
        return 1
    output.redact.add(found.values)
    output.step(f"herokuify doctor: bucket {s3.bucket}")
    output.info(f"Credentials: {found.said}")
    findings = _report(run_checks(s3, slug))
    needed = {finding.applicable for finding in findings if not finding.holds}
    needed.discard("")
    if apply and needed:
        from herokuify_buildpack.bucket.client import make_client

        output.step("Applying")
        for what, failure in apply_fixes(make_client(s3, 2), s3, needed):
            output.info(f"added {what}" if failure is None else f"could not add {what}: {failure}")
        output.step("Checking again")
        findings = _report(run_checks(s3, slug))
    return 0 if all(finding.holds for finding in findings) else 1


def _report(findings: Iterable[Finding]) -> list[Finding]:
    reported = []
    for finding in findings:
        mark = "ok  " if finding.holds else "FAIL"
        output.info(f"{mark} {finding.check}: {finding.detail}")
        if not finding.holds and finding.fix:
            output.info(f"     fix: {finding.fix}")
        reported.append(finding)
    return reported
