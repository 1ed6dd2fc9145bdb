"""Every error a user can meet, in one catalogue, and the one type that carries them.

Each entry says what is wrong and what to do about it, and may name the docs page that explains
more; its fields are filled in where it is raised: ``raise errors.NO_SUCH_BUCKET(...)``.
The build prints them after " !     herokuify: ", masked like all its output. The shell's own
few (no Python at all, a step that failed) are in lib/errors.sh.
"""

from __future__ import annotations

from dataclasses import dataclass


class HerokuifyError(Exception):
    """A fault in the app, its config or its bucket that the user can act on: no traceback."""


@dataclass(frozen=True)
class Entry:
    what: str  # what is wrong
    fix: str = ""  # what to do; one of several lines (lines to paste) starts on a line of its own
    doc: str = ""  # the page of docs/ that explains more, with its section: "page.md#section"

    def __call__(self, **fields: object) -> HerokuifyError:
        what, fix = self.what.format(**fields), self.fix.format(**fields)
        text = what + ("\n" if "\n" in fix else " ") + fix if fix else what
        return HerokuifyError(f"{text} (see docs/{self.doc})" if self.doc else text)


# Config vars

MISSING_CONFIG_VARS = Entry(
    "missing config var{s} {names}.", "Set {them} with: heroku config:set NAME=value"
)
BAD_BUCKET_NAME = Entry(
    "AWS_STORAGE_BUCKET_NAME {name!r} is not a valid S3 bucket name:",
    "use 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending in a letter "
    "or digit",
)
ENDPOINT_NOT_A_URL = Entry(
    "AWS_S3_ENDPOINT_URL must be an http:// or https:// URL,", "such as https://s3.example.com"
)
ENDPOINT_WITH_CREDENTIALS = Entry(
    "AWS_S3_ENDPOINT_URL must not carry credentials:",
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead",
)
ENDPOINT_WITH_PATH = Entry(
    "AWS_S3_ENDPOINT_URL must be the store's root URL with no path,",
    "such as {root}; the bucket goes in AWS_STORAGE_BUCKET_NAME",
)
KEYS_NOT_PAIRED = Entry(
    "{given} is set without {missing}:",
    "set both, or neither to use boto3's default credential chain (an instance or container role)",
)
TOKEN_WITHOUT_KEYS = Entry(
    "{token} is set without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY:",
    "temporary credentials need all three; unset it to use boto3's default credential chain",
)
NOT_A_POSITIVE_INT = Entry("{name} must be a whole number above 0, not {value!r}")
BAD_VERBOSITY = Entry("{name} must be 0, 1, 2 or 3, not {value!r}")
NOT_A_SWITCH = Entry("{name} must be 1 or 0, not {value!r};", "unset it to follow the app")
BAD_CHECKSUMS = Entry("{name} must be when_required or when_supported, not {value!r}")
BAD_UPLOAD_CLIENT = Entry("{name} must be crt or botocore, not {value!r}")
CRT_MISSING = Entry(
    "HEROKUIFY_UPLOAD_CLIENT=crt, but the app does not install awscrt 0.38 or later:",
    "add awscrt>=0.38 to requirements.txt, or unset HEROKUIFY_UPLOAD_CLIENT",
    doc="speed.md#the-crt",
)
BAD_PREFIX = Entry(
    "{name} must be folder names separated by /, of letters, digits, dots, - and _, not {value!r},",
    "such as myapp-staging",
)
PREFIX_INSIDE_AN_APP = Entry(
    "{name} {value!r} has a folder named static or media, which puts it inside another app's "
    "files, where that app's pruning deletes it:",
    "choose other names, such as myapp-staging",
)

# The app

MISSING_PACKAGES = Entry(
    "the build needs packages the app does not install.", "Add to requirements.txt:\n{lines}"
)
DJANGO_TOO_OLD = Entry(
    "the app installs Django {version}, and herokuify supports {supported}:",
    "require {line} in requirements.txt",
)
PYTHON_TOO_NEW_FOR_DJANGO = Entry(
    "Django {django} runs on Python {newest} at the newest, and the build runs Python {python}:",
    "pin Python {newest} with a .python-version file at the app root that says {newest}",
)
NO_MANAGE_PY = Entry(
    "no manage.py within 3 levels of the app root.",
    "herokuify only builds Django apps; commit manage.py or remove this buildpack.",
)
SETTINGS_MODULE_NOT_DOTTED = Entry(
    "DJANGO_SETTINGS_MODULE {module!r} is not a dotted Python module path",
    "such as mysite.settings",
)
SETTINGS_MODULE_IS_GENERATED = Entry(
    "DJANGO_SETTINGS_MODULE names the generated {generated};",
    "set it to the app's own settings module (herokuify switches dynos to {generated} itself)",
)
SETTINGS_MODULE_NOT_IN_MANAGE_PY = Entry(
    "could not tell the settings module from {manage_py}:",
    "set it with heroku config:set DJANGO_SETTINGS_MODULE=mysite.settings",
)
SETTINGS_MODULE_MISSING = Entry(
    "settings module {module} (named in {source}) is not in the app: there is no {expected}.",
    "Correct the name in {source}.",
)
SETTINGS_MODULE_OUTSIDE_APP = Entry(
    "settings module {module} is not part of the app: it imports from {origin}.",
    "Point DJANGO_SETTINGS_MODULE at the app's own settings.",
)
SETTINGS_FAILED_TO_LOAD = Entry(
    "the settings module {module} (named in {source}) failed to load: {failure}: {exc}{where}"
)
STORAGE_SETTINGS_NOT_APPLIED = Entry(
    "{module} does not apply herokuify's storage settings (STATIC_URL is {static_url}).",
    "End it with apply_storage_settings(globals(), app_root=BASE_DIR).",
    doc="how-it-works.md#the-settings-module",
)

# Static files

STATIC_ROOT_NOT_ITS_OWN = Entry(
    "STATIC_ROOT is {static_root}, outside the app or holding it; the build clears it.",
    "Use a folder of its own inside the app, such as BASE_DIR / 'staticfiles'.",
)
STATIC_ROOT_OVERLAPS_SOURCES = Entry(
    "STATIC_ROOT ({static_root}) overlaps {folder}, which static files are collected from, so "
    "clearing it would lose them.",
    "Give STATIC_ROOT its own folder.",
)
STATIC_ROOT_HOLDS_OTHER_FILES = Entry(
    "STATIC_ROOT ({static_root}) holds {name}, which collectstatic did not make: the build "
    "clears STATIC_ROOT, and never deletes the app's own files.",
    "Give STATIC_ROOT a folder of its own, such as BASE_DIR / 'staticfiles'; if heroku/python's "
    "collectstatic wrote {name}, heroku config:set DISABLE_COLLECTSTATIC=1 avoids it.",
    doc="failure-modes.md",
)
STATIC_FILES_UNLISTABLE = Entry("cannot list static files: {reason}: {filename}")
STATIC_FILE_UNREADABLE = Entry("static file {name} cannot be read: {reason}")
STATIC_FILE_DANGLING_LINK = Entry("static file {name} is a link to a missing file")
STATIC_FILE_NOT_REGULAR = Entry(
    "static file {name} is not a regular file (a pipe, socket or device)"
)
STATIC_FILE_OUTSIDE_APP = Entry(
    "static file {name} is a link to {target}, outside the app, and herokuify never publishes "
    "files from outside the app.",
    "Copy the file in, or remove the link.",
)
STATIC_NAME_NOT_UTF8 = Entry(
    "static file {shown} has a name that is not UTF-8, and S3 keys must be:", "rename it"
)
STATIC_KEY_TOO_LONG = Entry(
    "static file {start}... would be a key of {size} bytes; S3 allows {limit}.",
    "Shorten its path.",
)
STATIC_KEY_LEAVES_PREFIX = Entry(
    "static file {shown} would be the key {key}, whose . or .. folders a store may resolve "
    "outside static/.",
    "Rename it: herokuify reads a backslash as a folder separator, as django-storages does.",
)
STATIC_KEY_CONTROL_CHARACTER = Entry(
    "static file {shown} has a control character in its name, which S3 keys must not carry:",
    "rename it",
)
LINK_FAILED = Entry("collectstatic could not link {link}: {reason}")
COLLECTSTATIC_FAILED = Entry("collectstatic failed: {failure}: {exc}")
COMPRESS_FAILED = Entry("compress failed: {failure}: {exc}")

# Dynos and the release phase

RUNNING_RELEASE_FILE = Entry(
    "a dyno does not change static/ objects ({name}): the running release serves them, and a "
    "one-off dyno's collectstatic or compress would change them under it.",
    "Change the file in the app and push; the release phase republishes a slug as it was built.",
    doc="heroku-flow.md#one-off-dynos",
)
NOT_A_BUILT_SLUG = Entry(
    "no {record} in {where}: this is not a slug that herokuify-buildpack built.",
    "Run the release phase in the app's slug (on Heroku: release: python -m herokuify_buildpack "
    "release in the Procfile), after a build with this buildpack.",
)
NO_PREFIX_TO_DELETE = Entry(
    "HEROKUIFY_PREFIX is not set, so this app's files are all of bucket {bucket}'s root: "
    "delete-prefix deletes nothing then.",
    "Set HEROKUIFY_PREFIX on apps that share a bucket, review apps included.",
    doc="heroku-flow.md#apps-sharing-a-bucket",
)
DELETE_SHARED_PREFIX = Entry(
    "{others} also publish{es} under {where}: delete-prefix deletes nothing, as it would delete "
    "their files too.",
    "Give each app its own HEROKUIFY_PREFIX.",
    doc="heroku-flow.md#apps-sharing-a-bucket",
)
DELETES_REFUSED = Entry(
    "bucket {bucket} refused to delete {count} object(s), {key} among them ({code}).",
    "Let the build's keys delete objects (s3:DeleteObject) in this bucket.",
)
SLUG_NOT_WRITABLE = Entry(
    "the release phase could not send {path} naming this release's static URL: the slug's copy "
    "cannot be rewritten ({reason}).",
    "Run the release phase where the slug's files can be written, as in a Heroku dyno.",
)
SLUG_RECORD_UNREADABLE = Entry(
    "{record} in the slug cannot be read ({reason}).", "Build the app again with this buildpack."
)

# The bucket

NO_SUCH_BUCKET = Entry(
    "bucket {bucket} does not exist{at}.", "Create it, or correct AWS_STORAGE_BUCKET_NAME."
)
WRONG_REGION = Entry(
    "bucket {bucket} is in {actual}, but AWS_S3_REGION_NAME is {configured}.",
    "Set AWS_S3_REGION_NAME={actual}.",
)
ACLS_DISABLED = Entry(
    "bucket {bucket} has ACLs disabled (Object Ownership: Bucket owner enforced).",
    "Unset HEROKUIFY_STATIC_ACL (the build then finds this out itself), or set it to none, and "
    "allow public reads of static/* by bucket policy.",
    doc="failure-modes.md",
)
ACCESS_DENIED = Entry(
    "access denied to bucket {bucket} while {doing} ({code}).",
    "Check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the role boto3's "
    "chain found), and that they may list and write the bucket.",
)
STORE_FAILING = Entry("S3 answered {answer} while {doing} (bucket {bucket}), also when retried.")
STORE_REFUSED = Entry("S3 refused {doing} (bucket {bucket}): {status} {code}.")
NO_CREDENTIALS = Entry(
    "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, and boto3's "
    "default chain found none.",
    "Set both, or give the machine or container a role (instance profile, ECS task role, web "
    "identity).",
)
CREDENTIALS_FAILED = Entry(
    "boto3's default credential chain failed: {failure}.",
    "Check the role the machine or container gives, or set AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY.",
)
STORE_UNREACHABLE = Entry(
    "could not reach S3{at} for bucket {bucket} ({doing}): {failure}.",
    "Check AWS_S3_ENDPOINT_URL and that the store is up.",
)
STORE_SILENT = Entry(
    "S3 did not answer while {doing} (bucket {bucket}) within HEROKUIFY_S3_READ_TIMEOUT "
    "seconds, also when retried."
)
CONNECTION_DROPPED = Entry(
    "the connection to S3{at} dropped while {doing} (bucket {bucket}), also when retried "
    "({failure})."
)
STORE_FAILED = Entry("S3 failed while {doing} (bucket {bucket}): {failure}.")
UPLOADS_FAILED = Entry(
    "{failed} of {tried} uploads failed: {cause}{held_back}",
    "Deploy again: uploads that succeeded are remembered, and only the rest are sent.",
)

# Not the user's fault

UNEXPECTED = Entry("unexpected {failure}: {exc} (please report this)")

# Warnings: the build goes on, and says what to fix

PUBLIC_READS_BLOCKED = Entry(
    "browsers cannot load static files: {url} answers {status} to anonymous readers, and Block "
    "Public Access is on for bucket {bucket}.",
    "Turn off its BlockPublicPolicy and RestrictPublicBuckets, then allow public reads of "
    "static/*:\n{command} --policy '{policy}'",
)
PUBLIC_READS_DENIED = Entry(
    "browsers cannot load static files: {url} answers {status} to anonymous readers.",
    "Allow public reads of static/* (and check that Block Public Access, for the bucket and the "
    "account, allows a public policy):\n{command} --policy '{policy}'",
)
CDN_READS_DENIED = Entry(
    "browsers cannot load static files: {url} answers {status} to anonymous readers.",
    "If the CDN reads a private bucket (CloudFront's Origin Access Control), let it read "
    "static/* (see docs/aws.md#cloudfront); if it reads a public bucket, allow public reads of "
    "static/*:\n{command} --policy '{policy}'",
)
PUBLIC_URL_FAILS = Entry(
    "browsers may not load static files: {url} answers {answer} to anonymous readers.",
    "Check AWS_S3_CUSTOM_DOMAIN and the CDN or bucket it names.",
)
PREFIX_SHARED = Entry(
    "{others} also publish{es} under {where}: apps that share a prefix overwrite each other's "
    "files, and their prunes delete them.",
    "Give each app its own HEROKUIFY_PREFIX.",
    doc="heroku-flow.md#apps-sharing-a-bucket",
)
FONTS_WITHOUT_CORS = Entry(
    "web fonts are published to bucket {bucket}, and no CORS rule lets pages on other origins "
    "load them.",
    "Run: heroku run python -m herokuify_buildpack doctor --apply",
)


# Notes: the build is fine, and could be faster

CRT_WOULD_HELP = Entry(
    "Uploading through botocore:",
    "add awscrt>=0.38 to requirements.txt for uploads that need much less CPU",
    doc="speed.md#the-crt",
)
