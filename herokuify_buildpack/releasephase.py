"""The release phase: ``python -m herokuify_buildpack release``, the command of the Procfile's
``release:`` process. Heroku runs it in a one-off dyno on the slug, with the app's config vars,
after every build, config var change, pipeline promotion and rollback, and boots dynos on the
new release only if it succeeds (Heroku Dev Center, "Release Phase"). It makes the release safe
to serve, or fails it in one line, and the running release stays:

- every file the slug collected is in this app's bucket and prefix, with the headers these
  config vars give it, sent from the slug itself, which holds them all;
- no .css or .js file names the static URL of another bucket, prefix or domain: one that holds
  the URL its build made it for (an app's own CssAbsoluteFilter, say) is sent with this
  release's URL instead;
- the release is recorded in the bucket, so that this app's pruning keeps it.

After a build that published to this very destination, the slug's record names the release
record that build left; one listing request shows that it is still the newest, and nothing more
is asked or sent.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from herokuify_buildpack import errors, output
from herokuify_buildpack.assets.slugrecord import SlugRecord, slug_root
from herokuify_buildpack.bucket import credentials
from herokuify_buildpack.config import S3Config, UploadSettings, secret_values
from herokuify_buildpack.errors import HerokuifyError

RELEASE_COMMAND = "python -m herokuify_buildpack release"
# Files whose bytes may name the static URL they were built for: CSS and JavaScript bundles.
_URL_BEARING = (".css", ".js")


def release(env: Mapping[str, str], slug_candidates: list[Path]) -> int:
    started = time.monotonic()
    output.redact.add(secret_values(env))
    try:
        root = slug_root(slug_candidates)
        record = SlugRecord.read(root)
        s3, settings = S3Config.from_env(env), UploadSettings.from_env(env)
        # What boto3's chain finds on a dyno with a role, never printed, as the config vars.
        output.redact.add(credentials.source(s3, env).values)
        where = s3.describe(s3.static_prefix)
        if not record.static_root:
            output.step(f"herokuify release: no static files in this slug; media go to {where}")
            return 0
        if _published_by_the_build(record, s3, settings):
            seconds = time.monotonic() - started
            output.step(
                f"herokuify release: the build published this slug to {where} ({seconds:.1f} s)"
            )
            return 0
        _publish(root, record, s3, settings, started)
    except HerokuifyError as exc:
        output.error(f"herokuify: {exc}")
        return 1
    return 0


def procfile_release_command(slug_root: Path) -> str | None:
    """The command of the Procfile's release process, if it has one."""
    try:
        lines = (slug_root / "Procfile").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        name, colon, command = line.partition(":")
        if colon and name.strip() == "release":
            return command.strip()
    return None


def _published_by_the_build(record: SlugRecord, s3: S3Config, settings: UploadSettings) -> bool:
    """Whether this slug's build published it to this destination, and its release record is
    still the newest: no release has published other files since, and no prune has retired it."""
    from herokuify_buildpack.bucket.client import explain, make_client
    from herokuify_buildpack.bucket.releases import is_newest
    from herokuify_buildpack.upload.publish import destination

    if record.destination != destination(s3, settings):
        return False
    client = make_client(s3, concurrency=1, read_timeout=settings.read_timeout)
    try:
        return is_newest(client, s3.bucket, s3.static_prefix, record.release_record)
    except Exception as exc:
        raise explain(exc, s3, "listing the release records") from exc


def _publish(
    root: Path, record: SlugRecord, s3: S3Config, settings: UploadSettings, started: float
) -> None:
    """Everything the slug serves, sent where it is missing or differs, as a build would."""
    from herokuify_buildpack.bucket.cuts import ListingCuts
    from herokuify_buildpack.bucket.lister import fetch
    from herokuify_buildpack.steptimes import StepTimes
    from herokuify_buildpack.upload.publish import publish_static

    where = s3.describe(s3.static_prefix)
    output.step(f"herokuify release: publishing this slug's static files to {where}")
    source = record.source(root)
    static_url = s3.public_url(s3.static_prefix)
    rewritten = _rewrite_url(source.root, record.static_url, static_url)
    if rewritten:
        output.info(
            f"{rewritten} .css and .js files named {record.static_url}, the URL their build "
            f"made them for: sent naming {static_url}"
        )
    listed_since = time.monotonic()
    answers = fetch(s3, settings, ListingCuts())
    times = StepTimes()
    # A dyno keeps no state between releases: the upload plans from the listing alone.
    with tempfile.TemporaryDirectory(prefix="herokuify-release-") as state:
        result = publish_static(answers, s3, source, Path(state), settings, times, listed_since)
    output.info(times.line())
    seconds = time.monotonic() - started
    output.step(
        f"herokuify release: {output.counted(result.uploaded, 'file')} uploaded, "
        f"{result.unchanged} unchanged, "
        f"in {seconds:.1f} s, to {where}"
    )


def _rewrite_url(static_root: Path, built_for: str, now: str) -> int:
    """Replaces ``built_for`` with ``now`` in the .css and .js files that hold it; how many.
    Each is replaced by a new file, never written through: STATIC_ROOT's links lead into the
    slug's sources."""
    if built_for == now:
        return 0
    old, new = built_for.encode(), now.encode()
    rewritten = 0
    for folder, _, names in os.walk(static_root):
        for name in names:
            path = Path(folder) / name
            if not name.endswith(_URL_BEARING):
                continue
            try:
                data = path.read_bytes()
                if old not in data:
                    continue
                replacement = path.with_name(f".{name}.herokuify-release")
                replacement.write_bytes(data.replace(old, new))
                replacement.replace(path)
            except OSError as exc:
                raise errors.SLUG_NOT_WRITABLE(path=path, reason=exc.strerror or exc) from exc
            rewritten += 1
    return rewritten
