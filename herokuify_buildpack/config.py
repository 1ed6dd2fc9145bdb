"""Where the assets go, read from config vars: plain AWS names first, then Bucketeer's.

Used at build time (from ENV_DIR) and at run time (from the dyno's environment), so it reads a
mapping and never touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

STATIC_PREFIX = "static"
MEDIA_PREFIX = "media"
DEFAULT_REGION = "us-east-1"

# Each setting and the config vars that may carry it, in order of preference.
_SOURCES: dict[str, tuple[str, ...]] = {
    "access_key": ("AWS_ACCESS_KEY_ID", "BUCKETEER_AWS_ACCESS_KEY_ID"),
    "secret_key": ("AWS_SECRET_ACCESS_KEY", "BUCKETEER_AWS_SECRET_ACCESS_KEY"),
    "bucket": ("AWS_STORAGE_BUCKET_NAME", "BUCKETEER_BUCKET_NAME"),
    "region": ("AWS_S3_REGION_NAME", "BUCKETEER_AWS_REGION"),
    "endpoint_url": ("AWS_S3_ENDPOINT_URL",),
    "custom_domain": ("AWS_S3_CUSTOM_DOMAIN",),
}

# S3's rules for bucket names (length, characters, no IP address form).
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


class ConfigError(ValueError):
    """A config var is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class S3Config:
    access_key: str
    secret_key: str
    bucket: str
    region: str
    endpoint_url: str | None
    custom_domain: str | None
    static_acl: str | None
    media_public: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Config:
        values = partial_values(env)
        missing = [
            f"{_SOURCES[name][0]} (or {_SOURCES[name][1]})"
            for name in ("access_key", "secret_key", "bucket")
            if not values[name]
        ]
        if missing:
            plural = len(missing) > 1
            raise ConfigError(
                f"missing config var{'s' if plural else ''} {', '.join(missing)}. "
                f"Set {'them' if plural else 'it'} with: heroku config:set NAME=value"
            )
        return cls(
            access_key=values["access_key"] or "",
            secret_key=values["secret_key"] or "",
            bucket=_valid_bucket(values["bucket"] or ""),
            region=values["region"] or DEFAULT_REGION,
            endpoint_url=values["endpoint_url"],
            custom_domain=values["custom_domain"],
            static_acl=static_acl(env),
            media_public=media_is_public(env),
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.access_key, self.secret_key)

    def public_url(self, prefix: str) -> str:
        scheme, host = public_host(self.bucket, self.region, self.endpoint_url, self.custom_domain)
        return f"{scheme}://{host}/{prefix}/"

    def location(self, prefix: str) -> str:
        """Names the store, bucket and prefix: each has its own files in the build cache."""
        return f"{self.endpoint_url or 's3'}/{self.bucket}/{prefix}"

    def describe(self, prefix: str) -> str:
        """Where files go, for humans: never includes credentials."""
        return f"s3://{self.bucket}/{prefix}/"


def partial_values(env: Mapping[str, str]) -> dict[str, str | None]:
    """Each setting's value from the first config var that carries it, or None."""
    values = {name: _first_set(env, names) for name, names in _SOURCES.items()}
    values["endpoint_url"] = _valid_endpoint(values["endpoint_url"])
    values["custom_domain"] = bare_domain(values["custom_domain"])
    return values


def public_host(
    bucket: str, region: str | None, endpoint_url: str | None, custom_domain: str | None
) -> tuple[str, str]:
    """The URL scheme and host (plus the bucket as a path, for path style) serving the bucket."""
    if custom_domain:
        return "https", custom_domain
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        return parts.scheme, f"{parts.netloc}/{bucket}"
    region = region or DEFAULT_REGION
    # Virtual-hosted style breaks TLS for bucket names with dots, so those use path style.
    if "." in bucket:
        return "https", f"s3.{region}.amazonaws.com/{bucket}"
    return "https", f"{bucket}.s3.{region}.amazonaws.com"


def _first_set(env: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def _valid_bucket(name: str) -> str:
    if not _BUCKET_NAME.match(name) or ".." in name or _IP_ADDRESS.match(name):
        raise ConfigError(
            f"AWS_STORAGE_BUCKET_NAME {name!r} is not a valid S3 bucket name: use 3 to 63 "
            "lowercase letters, digits, dots and hyphens, starting and ending in a letter or digit"
        )
    return name


def _valid_endpoint(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            "AWS_S3_ENDPOINT_URL must be an http:// or https:// URL, such as https://s3.example.com"
        )
    if parts.username or parts.password:
        raise ConfigError(
            "AWS_S3_ENDPOINT_URL must not carry credentials: "
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead"
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ConfigError(
            "AWS_S3_ENDPOINT_URL must be the store's root URL with no path, "
            f"such as {parts.scheme}://{parts.netloc}; the bucket goes in AWS_STORAGE_BUCKET_NAME"
        )
    return f"{parts.scheme}://{parts.netloc}"


def bare_domain(domain: str | None) -> str | None:
    """Accept "cdn.example.com", "https://cdn.example.com/" and the like: keep host and path."""
    if domain is None:
        return None
    without_scheme = re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*:)?//", "", domain)
    return without_scheme.strip("/") or None


def static_acl(env: Mapping[str, str]) -> str | None:
    """The canned ACL for static files; "none" leaves access to the bucket policy instead,
    for buckets whose Object Ownership is "Bucket owner enforced" (ACLs disabled)."""
    value = env.get("HEROKUIFY_STATIC_ACL", "public-read").strip()
    return None if value.lower() in ("", "none") else value


def media_is_public(env: Mapping[str, str]) -> bool:
    return env.get("HEROKUIFY_MEDIA_PUBLIC", "") == "1"
