"""``python -m herokuify_buildpack delete-prefix``: deletes this app's files under its
HEROKUIFY_PREFIX (its static/ and media/), and refuses when it is unset, which would mean the
bucket's root, or when another app marks the same prefix. It is the command for the
``pr-predestroy`` script of app.json, which Heroku runs in a review app before it deletes the
app (Dev Center, "Review Apps"): each review app's files go with it, and those of the apps
sharing the bucket stay."""

from __future__ import annotations

from collections.abc import Mapping

from herokuify_buildpack import errors, output
from herokuify_buildpack.bucket import credentials
from herokuify_buildpack.config import S3Config, UploadSettings, secret_values
from herokuify_buildpack.errors import HerokuifyError


def delete_prefix(env: Mapping[str, str]) -> int:
    output.redact.add(secret_values(env))
    try:
        s3, settings = S3Config.from_env(env), UploadSettings.from_env(env)
        # What boto3's chain finds on a dyno with a role, never printed, as the config vars.
        output.redact.add(credentials.source(s3, env).values)
        if not s3.prefix:
            raise errors.NO_PREFIX_TO_DELETE(bucket=s3.bucket)
        deleted = _delete_all(s3, settings)
    except HerokuifyError as exc:
        output.error(f"herokuify: {exc}")
        return 1
    output.step(
        f"herokuify: deleted {output.counted(deleted, 'object')} under {s3.describe(s3.prefix)}"
    )
    return 0


def _delete_all(s3: S3Config, settings: UploadSettings) -> int:
    from herokuify_buildpack.bucket import deletion, releases
    from herokuify_buildpack.bucket.client import explain, make_client
    from herokuify_buildpack.bucket.listing import list_prefix

    client = make_client(s3, settings.concurrency, settings.read_timeout)
    try:
        static = list_prefix(client, s3.bucket, s3.static_prefix, concurrency=settings.concurrency)
        others = releases.other_apps(s3.static_prefix, static, settings.app_name or "")
        if others:
            named = releases.other_apps_named(others)
            raise errors.DELETE_SHARED_PREFIX(**named, where=s3.describe(s3.prefix))
        media = list_prefix(client, s3.bucket, s3.media_prefix, concurrency=settings.concurrency)
        keys = sorted(static.keys() | media.keys())
        for start in range(0, len(keys), deletion.BATCH):
            deletion.delete_keys(client, s3.bucket, keys[start : start + deletion.BATCH])
    except Exception as exc:
        raise explain(exc, s3, f"deleting what {s3.prefix}/ holds") from exc
    return len(keys)
