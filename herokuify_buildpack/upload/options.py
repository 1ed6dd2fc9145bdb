"""The config vars that tune the upload, read and checked once, before the build's work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from herokuify_buildpack.errors import BuildError

DEFAULT_CONCURRENCY = 32
DEFAULT_MAX_AGE = 300
DEFAULT_KEEP_RELEASES = 3
DEFAULT_READ_TIMEOUT = 30  # seconds S3 may stay silent before a request is retried


@dataclass(frozen=True)
class UploadSettings:
    concurrency: int
    read_timeout: int
    max_age: int
    prune: bool
    keep_releases: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> UploadSettings:
        return cls(
            concurrency=_positive_int(env, "HEROKUIFY_UPLOAD_CONCURRENCY", DEFAULT_CONCURRENCY),
            read_timeout=_positive_int(env, "HEROKUIFY_S3_READ_TIMEOUT", DEFAULT_READ_TIMEOUT),
            max_age=_positive_int(env, "HEROKUIFY_STATIC_MAX_AGE", DEFAULT_MAX_AGE),
            prune=env.get("HEROKUIFY_PRUNE", "") == "1",
            keep_releases=_positive_int(env, "HEROKUIFY_KEEP_RELEASES", DEFAULT_KEEP_RELEASES),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise BuildError(f"{name} must be a whole number above 0, not {value!r}")
    return int(value)
