"""Store profiles: the test proxy refuses what real S3-compatible stores refuse and moto accepts.

    with running_proxy(s3_server.endpoint_url) as proxy:
        store = StoreProfile.named("b2", proxy)  # sets proxy.handler
        ...  # build against proxy.endpoint_url, with that store's README settings
        assert store.refused == []  # what the store would have refused

Each refusal is the store's status, error code and message, from the source cited beside it.
Requests no rule refuses are forwarded to moto as they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from herokuify_dev.faults import Target, answer, answer_error, describe
from herokuify_dev.proxy import Connection, Request, Response, S3Proxy

CHECKSUM_HEADERS = ("x-amz-sdk-checksum-algorithm", "x-amz-checksum-")
_WRITES = ("PutObject", "CopyObject", "CreateMultipartUpload")


@dataclass(frozen=True)
class Refusal:
    status: str
    code: str
    message: str


def _checksum_header(request: Request) -> str | None:
    return next(
        (name for name, _ in request.headers if name.lower().startswith(CHECKSUM_HEADERS)), None
    )


def _acl_header(request: Request, target: Target) -> str | None:
    value = request.header("x-amz-acl")
    return value if value and target.operation in _WRITES else None


# Each rule: a request, and the refusal the store answers it with, or None to let it through.
Rule = Callable[[Request, Target], Refusal | None]


def acls_disabled(request: Request, target: Target) -> Refusal | None:
    # The S3 user guide, "Controlling ownership of objects and disabling ACLs": with Object
    # Ownership "Bucket owner enforced", a request that sets an ACL other than
    # bucket-owner-full-control fails with 400 AccessControlListNotSupported.
    acl = _acl_header(request, target)
    if acl and acl != "bucket-owner-full-control":
        return Refusal("400 Bad Request", "AccessControlListNotSupported",
                       "The bucket does not allow ACLs")  # fmt: skip
    return None


def b2_checksums(request: Request, target: Target) -> Refusal | None:
    # django-storages #1498: B2 answers boto3 >= 1.36's uploads with
    # "InvalidArgument: Unsupported header 'x-amz-sdk-checksum-algorithm' received for this
    # API call."
    header = _checksum_header(request)
    if header:
        return Refusal("400 Bad Request", "InvalidArgument",
                       f"Unsupported header '{header}' received for this API call.")  # fmt: skip
    return None


def gcs_checksums(request: Request, target: Target) -> Refusal | None:
    # django-storages #1482: Google Cloud Storage's XML API answers boto3 >= 1.36's checksum
    # headers with 403 SignatureDoesNotMatch.
    if _checksum_header(request):
        return Refusal("403 Forbidden", "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you "
                       "provided.")  # fmt: skip
    return None


def r2_acls(request: Request, target: Target) -> Refusal | None:
    # R2's "S3 API compatibility" page lists x-amz-acl as not implemented for PutObject,
    # CopyObject and CreateMultipartUpload; pixelfed #3775 quotes the answer to a PutObject with
    # public-read: 501, <Code>NotImplemented</Code>, "Header 'x-amz-acl' with value
    # 'public-read' not implemented" (PeerTube #5333 has the same message).
    acl = _acl_header(request, target)
    if acl:
        return Refusal("501 Not Implemented", "NotImplemented",
                       f"Header 'x-amz-acl' with value '{acl}' not implemented")  # fmt: skip
    return None


def r2_unlisted_calls(request: Request, target: Target) -> Refusal | None:
    # R2's "S3 API compatibility" page lists the bucket calls it implements; GetBucketOwnership
    # Controls is not among them.
    if target.operation == "GetBucketOwnershipControls":
        return Refusal("501 Not Implemented", "NotImplemented",
                       "GetBucketOwnershipControls not implemented")  # fmt: skip
    return None


def ownership_not_found(request: Request, target: Target) -> Refusal | None:
    # AWS's GetBucketOwnershipControls reference: a bucket made before ownership controls, or
    # whose controls were deleted, has none; turbot/steampipe-plugin-aws #1548 quotes AWS's
    # answer, 404 OwnershipControlsNotFoundError. moto answers every bucket without controls so.
    if target.operation == "GetBucketOwnershipControls":
        return Refusal("404 Not Found", "OwnershipControlsNotFoundError",
                       "The bucket ownership controls were not found")  # fmt: skip
    return None


def r2_trailers(request: Request, target: Target) -> Refusal | None:
    # R2's "S3 API compatibility" page: checksums only as a whole-object CRC32; an aws-chunked
    # body with a trailing checksum is refused, which botocore reports as Unauthorized.
    if "aws-chunked" in (request.header("content-encoding") or ""):
        return Refusal("401 Unauthorized", "Unauthorized", "Unauthorized")
    return None


def minio_delete_md5(request: Request, target: Target) -> Refusal | None:
    # CERT-Polska/karton #269: MinIO before RELEASE.2025-01-20 answers a DeleteObjects that has
    # no Content-MD5 with 400 MissingContentMD5.
    if target.operation == "DeleteObjects" and request.header("content-md5") is None:
        return Refusal("400 Bad Request", "MissingContentMD5",
                       "Missing required header for this request: Content-Md5.")  # fmt: skip
    return None


def cors_as_s3(client: Any, request: Request, response: Response) -> Response:
    """The S3 user guide, "Using cross-origin resource sharing (CORS)": S3 answers a request
    from another origin with Access-Control-* headers only when one of the bucket's CORS rules
    allows its origin and method. moto adds them to every answer."""
    origin = request.header("origin")
    if origin is None:
        return response
    bucket = describe(request).bucket
    try:
        rules = client.get_bucket_cors(Bucket=bucket).get("CORSRules", [])
    except client.exceptions.ClientError:
        rules = []
    allowed = any(
        request.method in rule.get("AllowedMethods", [])
        and ("*" in rule.get("AllowedOrigins", []) or origin in rule.get("AllowedOrigins", []))
        for rule in rules
    )
    return response if allowed else response.without(b"access-control-")


def public_access_restricted(client: Any, request: Request, target: Target) -> bool:
    """The S3 user guide, "Blocking public access to your Amazon S3 storage": with
    RestrictPublicBuckets, a bucket whose policy is public serves no anonymous reader, whatever
    the policy says. moto serves them."""
    signed = request.header("authorization") or "X-Amz-Signature=" in request.target
    if target.operation != "GetObject" or signed:
        return False
    try:
        block = client.get_public_access_block(Bucket=target.bucket)
    except client.exceptions.ClientError:
        return False
    return bool(block["PublicAccessBlockConfiguration"].get("RestrictPublicBuckets"))


_BLOCKED = Refusal("403 Forbidden", "AccessDenied", "Access Denied")


PROFILES: dict[str, tuple[Rule, ...]] = {
    "aws-acls-disabled": (acls_disabled,),
    "b2": (b2_checksums,),
    "r2": (r2_acls, r2_unlisted_calls, r2_trailers),
    # Issue 22: a store whose answer about Object Ownership says it takes ACLs, as an AWS
    # bucket older than ownership controls does, and which refuses them as R2 does.
    "r2-ownership-not-found": (r2_acls, ownership_not_found),
    "gcs": (gcs_checksums,),
    "minio-2024": (minio_delete_md5,),
    "aws-strict-cors": (),  # see cors_as_s3: its difference is in the answers
}

# What GetBucketLocation answers where it names no AWS region: R2's clients use the region
# "auto" (R2's S3 API documentation), and GCS's XML API names its locations, such as the
# multi-region "US" (Cloud Storage's XML API reference, GET Bucket, ?location).
_LOCATIONS = {"r2": "auto", "gcs": "US"}


def _location(name: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{name}'
        "</LocationConstraint>"
    ).encode()


@dataclass
class StoreProfile:
    name: str
    proxy: S3Proxy
    refused: list[tuple[Target, Refusal]] = field(default_factory=list)
    seen: list[Target] = field(default_factory=list)  # every request, refused or not
    answered: list[tuple[Target, int]] = field(default_factory=list)  # what moto answered
    moto: Any = None  # a client of moto itself, for profiles that read the bucket's settings

    @classmethod
    def named(cls, name: str, proxy: S3Proxy) -> StoreProfile:
        from herokuify_dev.s3server import make_client

        profile = cls(name, proxy)
        proxy.handler = profile.handle
        proxy.rewrite_head = profile.answer
        profile.moto = make_client(f"http://{proxy.upstream_host}:{proxy.upstream_port}")
        return profile

    def answer(self, request: Request, response: Response) -> Response:
        """Records each forwarded answer's status; S3's CORS where the profile has it."""
        self.answered.append((describe(request), response.status))
        if self.name != "aws-strict-cors":
            return response
        return cors_as_s3(self.moto, request, response)

    async def handle(self, conn: Connection, request: Request) -> bool:
        target = describe(request)
        self.seen.append(target)
        for rule in PROFILES[self.name]:
            refusal = rule(request, target)
            if refusal is not None:
                self.refused.append((target, refusal))
                return await answer_error(
                    conn, request, refusal.status, refusal.code, refusal.message
                )
        if self.name == "aws-acls-disabled" and await asyncio.to_thread(
            public_access_restricted, self.moto, request, target
        ):
            self.refused.append((target, _BLOCKED))
            return await answer_error(
                conn, request, _BLOCKED.status, _BLOCKED.code, _BLOCKED.message
            )
        if target.operation == "GetBucketLocation" and self.name in _LOCATIONS:
            return await answer(conn, request, "200 OK", _location(_LOCATIONS[self.name]))
        return await self.proxy.forward(conn, request)
