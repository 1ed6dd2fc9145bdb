"""Which client carries a build's uploads: the AWS Common Runtime's for single PUTs where the
app installs awscrt (crtputs.py), s3transfer on botocore for multipart uploads and where it
does not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from herokuify_buildpack import errors, output
from herokuify_buildpack.config import S3Config, UploadSettings
from herokuify_buildpack.upload import crtputs, transfer
from herokuify_buildpack.upload.localfiles import LocalFile

Send = Callable[[list[LocalFile]], transfer.TransferReport]


def sender(
    client: Any,
    s3: S3Config,
    settings: UploadSettings,
    acl: transfer.AclDrop,
    on_tick: Callable[[int, int, int], None],
) -> Send:
    """The function that uploads files and reports what S3 confirmed. Without awscrt, and
    unless HEROKUIFY_UPLOAD_CLIENT chose botocore, says in one line what awscrt would give."""

    def through_botocore(files: list[LocalFile]) -> transfer.TransferReport:
        return transfer.upload(
            client, s3.bucket, files, concurrency=settings.concurrency, on_tick=on_tick
        )

    if not crtputs.chosen(settings):
        if settings.upload_client is None:
            output.info(str(errors.CRT_WOULD_HELP()))
        return through_botocore
    puts = crtputs.CrtPuts(client, s3, settings)

    def through_crt(files: list[LocalFile]) -> transfer.TransferReport:
        report = puts.upload(
            [file for file in files if crtputs.carries(file)], acl, on_tick=on_tick
        )
        large = [file for file in files if not crtputs.carries(file)]
        if large:
            report.merge(through_botocore(large))
        return report

    return through_crt
