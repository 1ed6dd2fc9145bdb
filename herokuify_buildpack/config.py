"""Every config var this buildpack reads: one table, parsed once, for the build and the dynos.

Each row gives a var's names (the preferred one first, then aliases such as the Bucketeer
add-on's), its default, its parser, whether its value is a secret, and when it applies. Everything
else reads the parsed ``Config``: S3Config for the bucket, UploadSettings for the upload, and the
rest as attributes. The README's config-var table lists the same names (a test checks).

Reading a mapping, never the network or os.environ itself, keeps this usable from any platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from herokuify_buildpack import errors

# Under HEROKUIFY_PREFIX, if set: an app's own part of a bucket that other apps share.
STATIC_FOLDER = "static"
MEDIA_FOLDER = "media"
DEFAULT_REGION = "us-east-1"
# Set by the build for the Django code it runs, and nowhere else: without it, the settings
# overlay points the storages at the bucket, on a dyno or in any image run anywhere.
BUILDING_MARKER = "HEROKUIFY_BUILDING"
# The manifest of Django's hashed names (ManifestFilesMixin.manifest_name), in STATIC_ROOT. The
# build keeps it in the slug, never in the bucket; dynos have hashed names where it is there.
HASHED_NAMES_MANIFEST = "staticfiles.json"

BUILD, RUN, BOTH = "build", "run", "both"

Parser = Callable[[str, str], Any]  # (config var name, stripped value) -> value


@dataclass(frozen=True)
class ConfigVar:
    key: str  # the attribute of Config that holds the parsed value
    names: tuple[str, ...]  # the first one set wins
    default: Any  # when none is set; REQUIRED where the build cannot go on without it
    parse: Parser
    secret: bool
    applies: str  # BUILD, RUN or BOTH
    exact: bool = False  # parsed as given; otherwise stripped of white space first
    blank_counts: bool = False  # a var set to "" is parsed; otherwise it counts as unset


REQUIRED = object()

# S3's rules for bucket names (length, characters, no IP address form).
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def _text(_: str, value: str) -> str:
    return value


def _flag(_: str, value: str) -> bool:
    return value == "1"


def _heroku_python_off_switch(_: str, value: str) -> bool:
    """As heroku/python reads DISABLE_COLLECTSTATIC (bin/steps/collectstatic): through
    ``$(cat file)``, which drops trailing newlines, any value but "0" or empty is on."""
    return value.rstrip("\n") not in ("", "0")


# An app's own part of a shared bucket: folder names, one or more, separated by "/".
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


def _prefix(name: str, value: str) -> str:
    prefix = value.strip("/")
    if not _PREFIX.match(prefix):
        raise errors.BAD_PREFIX(name=name, value=value)
    # Under another app's static/ or media/, that app's prune or delete-prefix would take ours.
    if {STATIC_FOLDER, MEDIA_FOLDER} & set(prefix.split("/")):
        raise errors.PREFIX_INSIDE_AN_APP(name=name, value=value)
    return prefix


def _switch(name: str, value: str) -> bool:
    """A three-way flag: "1" on, "0" off; unset (the default) leaves the choice to the app."""
    if value not in ("0", "1"):
        raise errors.NOT_A_SWITCH(name=name, value=value)
    return value == "1"


def _positive_int(name: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise errors.NOT_A_POSITIVE_INT(name=name, value=value)
    return int(value)


def _verbosity(name: str, value: str) -> int:
    if value not in ("0", "1", "2", "3"):
        raise errors.BAD_VERBOSITY(name=name, value=value)
    return int(value)


def _bucket_name(name: str, value: str) -> str:
    if not _BUCKET_NAME.match(value) or ".." in value or _IP_ADDRESS.match(value):
        raise errors.BAD_BUCKET_NAME(name=value)
    return value


def _endpoint(_: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.ENDPOINT_NOT_A_URL()
    if parts.username or parts.password:
        raise errors.ENDPOINT_WITH_CREDENTIALS()
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise errors.ENDPOINT_WITH_PATH(root=f"{parts.scheme}://{parts.netloc}")
    return f"{parts.scheme}://{parts.netloc}"


def bare_domain(domain: str | None) -> str | None:
    """Accept "cdn.example.com", "https://cdn.example.com/" and the like: keep host and path."""
    if domain is None:
        return None
    without_scheme = re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*:)?//", "", domain)
    return without_scheme.strip("/") or None


def _domain(_: str, value: str) -> str | None:
    return bare_domain(value)


def _acl(_: str, value: str) -> str:
    """ "none" (or blank) is "": no ACL, access is left to the bucket policy."""
    return "" if value.lower() in ("", "none") else value


CHECKSUM_MODES = ("when_required", "when_supported")
UPLOAD_CLIENTS = ("crt", "botocore")


def _checksums(name: str, value: str) -> str:
    if value not in CHECKSUM_MODES:
        raise errors.BAD_CHECKSUMS(name=name, value=value)
    return value


def _upload_client(name: str, value: str) -> str:
    if value not in UPLOAD_CLIENTS:
        raise errors.BAD_UPLOAD_CLIENT(name=name, value=value)
    return value


CONFIG_VARS: tuple[ConfigVar, ...] = (
    # Both or neither (S3Config checks): without them, boto3's default chain finds credentials,
    # such as an instance's or a container's role (bucket/credentials.py).
    ConfigVar("access_key", ("AWS_ACCESS_KEY_ID", "BUCKETEER_AWS_ACCESS_KEY_ID"),
              None, _text, secret=True, applies=BOTH),
    ConfigVar("secret_key", ("AWS_SECRET_ACCESS_KEY", "BUCKETEER_AWS_SECRET_ACCESS_KEY"),
              None, _text, secret=True, applies=BOTH),
    # Temporary credentials' third part, with the two keys.
    ConfigVar("session_token", ("AWS_SESSION_TOKEN",), None, _text, secret=True, applies=BOTH),
    ConfigVar("bucket", ("AWS_STORAGE_BUCKET_NAME", "BUCKETEER_BUCKET_NAME"),
              REQUIRED, _bucket_name, secret=False, applies=BOTH),
    ConfigVar("region", ("AWS_S3_REGION_NAME", "BUCKETEER_AWS_REGION"),
              DEFAULT_REGION, _text, secret=False, applies=BOTH),
    ConfigVar("endpoint_url", ("AWS_S3_ENDPOINT_URL",),
              None, _endpoint, secret=False, applies=BOTH),
    ConfigVar("custom_domain", ("AWS_S3_CUSTOM_DOMAIN",),
              None, _domain, secret=False, applies=BOTH),
    # Unset: static/ and media/ at the bucket's root, as one app alone uses it.
    ConfigVar("prefix", ("HEROKUIFY_PREFIX",), "", _prefix, secret=False, applies=BOTH),
    # Read by bin/compile and bin/build themselves, so that a disabled buildpack needs no Python.
    ConfigVar("disable", ("HEROKUIFY_DISABLE",),
              False, _flag, secret=False, applies=BUILD, exact=True),
    # Unset: hashed names if the app's own static storage hashes them (settings.py decides).
    # Read by the build alone: dynos follow the slug it made, even after a config:set.
    ConfigVar("hashed_names", ("HEROKUIFY_HASHED_NAMES",),
              None, _switch, secret=False, applies=BUILD, exact=True),
    ConfigVar("keep_settings_module", ("HEROKUIFY_KEEP_SETTINGS_MODULE",),
              False, _flag, secret=False, applies=BUILD, exact=True),
    # Unset: the build asks the bucket whether it takes ACLs; set but blank, as "none": no ACL.
    ConfigVar("static_acl", ("HEROKUIFY_STATIC_ACL",),
              None, _acl, secret=False, applies=BOTH, blank_counts=True),
    # Unset: only where an operation requires them with a custom endpoint, else wherever
    # botocore supports them. Many S3-compatible stores refuse botocore's default checksums.
    ConfigVar("checksums", ("HEROKUIFY_S3_CHECKSUMS",),
              None, _checksums, secret=False, applies=BOTH),
    ConfigVar("max_age", ("HEROKUIFY_STATIC_MAX_AGE",),
              300, _positive_int, secret=False, applies=BUILD),
    ConfigVar("media_public", ("HEROKUIFY_MEDIA_PUBLIC",),
              False, _flag, secret=False, applies=RUN, exact=True),
    ConfigVar("concurrency", ("HEROKUIFY_UPLOAD_CONCURRENCY",),
              32, _positive_int, secret=False, applies=BUILD),
    # Unset: awscrt's S3 client carries the uploads where the app installs it (upload/crtputs.py).
    ConfigVar("upload_client", ("HEROKUIFY_UPLOAD_CLIENT",),
              None, _upload_client, secret=False, applies=BUILD),
    # Seconds S3 may stay silent before a request is retried.
    ConfigVar("read_timeout", ("HEROKUIFY_S3_READ_TIMEOUT",),
              30, _positive_int, secret=False, applies=BUILD),
    ConfigVar("prune", ("HEROKUIFY_PRUNE",),
              False, _flag, secret=False, applies=BUILD, exact=True),
    ConfigVar("keep_releases", ("HEROKUIFY_KEEP_RELEASES",),
              3, _positive_int, secret=False, applies=BUILD),
    # Heroku's dyno metadata (heroku labs:enable runtime-dyno-metadata), where it is on: each
    # app marks the prefix it publishes under, and is told of another app's mark there.
    ConfigVar("app_name", ("HEROKU_APP_NAME",), None, _text, secret=False, applies=BOTH),
    ConfigVar("verbosity", ("HEROKUIFY_VERBOSITY",), 1, _verbosity, secret=False, applies=BUILD),
    # Unset: the module that manage.py names.
    ConfigVar("settings_module", ("DJANGO_SETTINGS_MODULE",),
              None, _text, secret=False, applies=BOTH),
    # heroku/python's own switch for its collectstatic; the build only reports it.
    ConfigVar("disable_collectstatic", ("DISABLE_COLLECTSTATIC",),
              False, _heroku_python_off_switch, secret=False, applies=BUILD, exact=True),
)  # fmt: skip

_BY_KEY = {row.key: row for row in CONFIG_VARS}
_NOT_SECRET = frozenset(name for row in CONFIG_VARS if not row.secret for name in row.names)


def all_names() -> list[str]:
    return [name for row in CONFIG_VARS for name in row.names]


def names_of(key: str) -> tuple[str, ...]:
    """One row's names, the preferred one first."""
    return _BY_KEY[key].names


def value_of(env: Mapping[str, str], key: str) -> Any:
    """One row's value: parsed from the first of its names that is set, else its default."""
    row = _BY_KEY[key]
    for name in row.names:
        value = env.get(name)
        if value is None:
            continue
        value = value if row.exact else value.strip()
        if value or row.blank_counts:
            return row.parse(name, value)
    return None if row.default is REQUIRED else row.default


def is_set(env: Mapping[str, str], key: str) -> bool:
    """Whether one of the row's names carries a value, before it is parsed."""
    return name_set(env, key) is not None


def name_set(env: Mapping[str, str], key: str) -> str | None:
    """The first of the row's names that carries a value: the one its value is read from."""
    return next((name for name in _BY_KEY[key].names if env.get(name, "").strip()), None)


def is_secret(name: str) -> bool:
    """Every value is a secret but the table's non-secret ones and this buildpack's own
    HEROKUIFY_* switches: an app's SECRET_KEY or DATABASE_URL is masked without being named."""
    return name not in _NOT_SECRET and not name.startswith("HEROKUIFY_")


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The values to mask in all output (redaction.py masks the forms each may take)."""
    return [value for name, value in env.items() if is_secret(name)]


@dataclass(frozen=True)
class S3Config:
    """Where the assets go."""

    access_key: str | None  # both keys, or neither: boto3's default chain then
    secret_key: str | None
    session_token: str | None
    bucket: str
    region: str
    endpoint_url: str | None
    custom_domain: str | None
    static_acl: str | None  # None: unset, so the build asks the bucket; "": no ACL
    checksums: str | None
    prefix: str  # the app's own part of the bucket; "" for its root

    @property
    def static_prefix(self) -> str:
        return self.under_prefix(STATIC_FOLDER)

    @property
    def media_prefix(self) -> str:
        return self.under_prefix(MEDIA_FOLDER)

    def under_prefix(self, folder: str) -> str:
        return under_prefix(self.prefix, folder)

    @property
    def checksum_mode(self) -> str:
        return self.checksum_mode_for(self.endpoint_url, self.checksums)

    @staticmethod
    def checksum_mode_for(endpoint_url: str | None, checksums: str | None) -> str:
        """botocore's request_checksum_calculation and response_checksum_validation. Since
        botocore 1.36 it sends CRC32 checksums on every upload; B2, GCS, R2 (in part), older
        MinIO and others refuse them (see docs/stores.md)."""
        if checksums:
            return checksums
        return "when_required" if endpoint_url else "when_supported"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Config:
        # Checked in this order: the endpoint and domain, what is missing, the keys, then the
        # bucket name.
        values = {key: value_of(env, key) for key in ("endpoint_url", "custom_domain")}
        missing = [
            _BY_KEY[key].names
            for key in cls.__dataclass_fields__
            if _BY_KEY[key].default is REQUIRED and not is_set(env, key)
        ]
        if missing:
            plural = len(missing) > 1
            raise errors.MISSING_CONFIG_VARS(
                s="s" if plural else "",
                names=", ".join(f"{names[0]} (or {names[1]})" for names in missing),
                them="them" if plural else "it",
            )
        _check_keys(env)
        values.update(
            (key, value_of(env, key)) for key in cls.__dataclass_fields__ if key not in values
        )
        return cls(**values)

    def public_url(self, prefix: str) -> str:
        scheme, host = public_host(self.bucket, self.region, self.endpoint_url, self.custom_domain)
        return f"{scheme}://{host}/{prefix}/"

    def media_url(self, media_public: bool) -> str:
        """Public media go through AWS_S3_CUSTOM_DOMAIN; private media are signed by the bucket
        itself, which a CDN in front of it cannot pass on."""
        if media_public:
            return self.public_url(self.media_prefix)
        scheme, host = public_host(self.bucket, self.region, self.endpoint_url, None)
        return f"{scheme}://{host}/{self.media_prefix}/"

    def cache_key(self, prefix: str) -> str:
        """Names the store, bucket and prefix: each has its own files in the build cache."""
        return f"{self.endpoint_url or 's3'}/{self.bucket}/{prefix}"

    def describe(self, prefix: str) -> str:
        """Where files go, for humans: never includes credentials."""
        return f"s3://{self.bucket}/{prefix}/"


_KEYS = ("access_key", "secret_key")


def _check_keys(env: Mapping[str, str]) -> None:
    """One key without the other is a mistake, never a choice: boto3's chain would then sign
    with credentials from somewhere else. A session token belongs to its keys."""
    access, secret = name_set(env, "access_key"), name_set(env, "secret_key")
    given = access or secret
    if given and not (access and secret):
        has, lacks = _KEYS if access else _KEYS[::-1]
        # Its partner of the same family: AWS_* or the Bucketeer add-on's.
        partner = names_of(lacks)[names_of(has).index(given)]
        raise errors.KEYS_NOT_PAIRED(given=given, missing=partner)
    token = name_set(env, "session_token")
    if token and access is None:
        raise errors.TOKEN_WITHOUT_KEYS(token=token)


@dataclass(frozen=True)
class UploadSettings:
    """How the build uploads and prunes."""

    concurrency: int
    upload_client: str | None  # None: the CRT if installed
    read_timeout: int
    max_age: int
    prune: bool
    keep_releases: int
    app_name: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> UploadSettings:
        return cls(**{key: value_of(env, key) for key in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Config:
    """Every config var the build reads, parsed and checked at once, before any work."""

    s3: S3Config
    upload: UploadSettings
    keep_settings_module: bool
    settings_module: str | None
    verbosity: int
    disable_collectstatic: bool
    # The settings overlay reads it; parsed here too, so a bad value fails before any work.
    hashed_names: bool | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        s3, upload = S3Config.from_env(env), UploadSettings.from_env(env)
        others = {
            key: value_of(env, key)
            for key in cls.__dataclass_fields__
            if key not in ("s3", "upload")
        }
        return cls(s3=s3, upload=upload, **others)


def under_prefix(prefix: str, folder: str) -> str:
    """``folder`` (static, media) in the app's part of the bucket."""
    return f"{prefix}/{folder}" if prefix else folder


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


def partial_values(env: Mapping[str, str]) -> dict[str, Any]:
    """The bucket's values that are set, for the storages, which may get the rest from Django's
    own AWS_* settings instead; a malformed one still fails."""
    return {key: value_of(env, key) for key in S3Config.__dataclass_fields__}
