"""Which objects each release uses, kept in the bucket so old assets can be pruned safely.

A record is a small private object under ``static/.herokuify/releases/``, named by its time and
a digest of the release's keys and of the headers each object was given. It lives inside the
prefix the build lists anyway, so reading the history costs no request, and a deploy whose keys
and headers are unchanged writes none. An intent, under ``static/.herokuify/intents/``, holds the
keys of a build still in progress (see pruning.py).

A release is given as a mapping of each key to its headers_tag (see upload/localfiles.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from herokuify_buildpack.bucket.listing import RemoteObject

BOOKKEEPING_DIR = ".herokuify"


def bookkeeping_prefix(prefix: str) -> str:
    return f"{prefix}/{BOOKKEEPING_DIR}/"


def records_prefix(prefix: str) -> str:
    return f"{bookkeeping_prefix(prefix)}releases/"


def intents_prefix(prefix: str) -> str:
    return f"{bookkeeping_prefix(prefix)}intents/"


def apps_prefix(prefix: str) -> str:
    """Each app that publishes under ``prefix`` leaves an empty object named after it here."""
    return f"{bookkeeping_prefix(prefix)}apps/"


def other_apps(prefix: str, remote: Mapping[str, RemoteObject], app: str) -> list[str]:
    """The apps other than ``app`` whose marks ``remote`` shows under ``prefix``."""
    start = apps_prefix(prefix)
    return sorted(
        key[len(start) :] for key in remote if key.startswith(start) and key != start + app
    )


def other_apps_named(others: list[str]) -> dict[str, str]:
    """The fields that name ``others`` in the catalogue's shared-prefix lines."""
    return {"others": ", ".join(others), "es": "es" if len(others) == 1 else ""}


def mark_app(client: Any, bucket: str, prefix: str, app: str) -> None:
    client.put_object(Bucket=bucket, Key=f"{apps_prefix(prefix)}{app}", Body=b"")


def release_digest(release: Mapping[str, str]) -> str:
    lines = sorted(f"{key}\t{tag}" for key, tag in release.items())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def record_keys(remote: Mapping[str, RemoteObject], prefix: str) -> list[str]:
    """The release records in ``remote``, oldest first."""
    start = records_prefix(prefix)
    return sorted(key for key in remote if key.startswith(start))


def newest_record(prefix: str, remote: Mapping[str, RemoteObject]) -> str | None:
    records = record_keys(remote, prefix)
    return records[-1] if records else None


def is_recorded(
    prefix: str, release: Mapping[str, str], remote: Mapping[str, RemoteObject]
) -> bool:
    """Whether the newest release record lists exactly these keys, with these headers."""
    newest = newest_record(prefix, remote)
    return newest is not None and newest.endswith(f"-{release_digest(release)}.json")


def record_release(client: Any, bucket: str, prefix: str, release: Mapping[str, str]) -> str:
    """Store this release's keys and headers, under a name that sorts after every earlier
    record; that name."""
    ordered = sorted(release)
    body = {"keys": ordered, "headers": [release[key] for key in ordered]}
    key = f"{records_prefix(prefix)}{stamp()}-{release_digest(release)}.json"
    _put_json(client, bucket, key, body)
    return key


def is_newest(client: Any, bucket: str, prefix: str, record: str) -> bool:
    """Whether ``record`` is in the bucket, with no record after it: one listing request,
    which starts just before it."""
    answer = client.list_objects_v2(
        Bucket=bucket, Prefix=records_prefix(prefix), StartAfter=record[:-1], MaxKeys=2
    )
    return [item["Key"] for item in answer.get("Contents", [])] == [record]


def record_intent(
    client: Any, bucket: str, prefix: str, keys: Iterable[str]
) -> tuple[str, datetime]:
    """Store the keys a build in progress relies on; the intent's key, and when S3 stored it,
    by S3's clock (its answer's Date)."""
    ordered = sorted(keys)
    digest = hashlib.sha256("\n".join(ordered).encode()).hexdigest()[:16]
    key = f"{intents_prefix(prefix)}{stamp()}-{digest}.json"
    answer = _put_json(client, bucket, key, {"keys": ordered})
    date = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    return key, s3_clock(date)


def s3_clock(date: str | None) -> datetime:
    """An answer's Date as an aware UTC time, whatever its form: HTTP dates are GMT, and a
    "-0000" zone or two Date headers that a proxy joined parse without one. This machine's clock
    stands in for a missing or unreadable Date."""
    try:
        when = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        when = None
    if when is None:
        return datetime.now(timezone.utc)
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


def recorded_headers(client: Any, bucket: str, record: str) -> dict[str, str]:
    """Each key of a release record, with the headers_tag its build gave it. A record written
    before records named headers names none."""
    body = _read_json(client, bucket, record)
    return dict(zip(body["keys"], body.get("headers", []), strict=False))


def recorded_keys(client: Any, bucket: str, record: str) -> list[str]:
    """The keys of a release record or an intent."""
    return list(_read_json(client, bucket, record)["keys"])


def stamp() -> str:
    """Now, in a form whose order is time order."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def _put_json(client: Any, bucket: str, key: str, body: object) -> Any:
    return client.put_object(
        Bucket=bucket, Key=key, Body=json.dumps(body).encode(), ContentType="application/json"
    )


def _read_json(client: Any, bucket: str, key: str) -> Any:
    return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
