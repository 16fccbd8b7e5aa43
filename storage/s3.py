"""An ObjectStore on any S3-compatible server, through the (synchronous) minio SDK."""

from __future__ import annotations

import asyncio
import datetime
import io
import urllib.parse
from collections.abc import Callable
from typing import TypeVar

import certifi
import urllib3
from minio import Minio
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import check_bucket_name

from storage.base import (
    DEFAULT_CONTENT_TYPE,
    ObjectInfo,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    check_expiry,
    validate_key,
)

T = TypeVar("T")

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 30.0
# check() backs a readiness endpoint: it must answer within ~2 s even when the
# server accepts connections but does not respond. The total bounds connect
# plus read together.
CHECK_TIMEOUT = 1.8
CHECK_CONNECT_TIMEOUT = 1.0

_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchVersion"})
_AUTH_CODES = frozenset(
    {"AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken"}
)


def _pool(*, timeout: urllib3.Timeout, retries: urllib3.Retry) -> urllib3.PoolManager:
    return urllib3.PoolManager(
        timeout=timeout,
        maxsize=10,
        retries=retries,
        cert_reqs="CERT_REQUIRED",
        ca_certs=certifi.where(),
    )


def _describe(exc: BaseException) -> str:
    # urllib3 wraps the interesting error (e.g. "Connection refused") in
    # MaxRetryError.reason; keep the reason short for /readyz.
    reason = getattr(exc, "reason", None)
    text = str(reason if reason is not None else exc)
    return text if len(text) <= 200 else text[:197] + "..."


class S3Store:
    """Objects in one bucket of an S3-compatible server."""

    kind: str = "s3"

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = False,
        region: str = "us-east-1",
        public_url: str = "",
    ) -> None:
        # Fail at construction, not on the first request, for a malformed name;
        # strict = the rules make_bucket applies (no upper case, no '_').
        check_bucket_name(bucket, strict=True)
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
        # minio's default pool retries 5 times with 5-minute timeouts, which
        # turns "server down" into a multi-minute hang. Connect failures are
        # not retried at all (refused stays refused). One read retry covers a
        # keep-alive connection the server closed just as we reused it
        # (urllib3 only retries idempotent methods, and minio sends bodies as
        # bytes, so a retried PUT is complete). 5xx answers are retried twice,
        # then handed to minio (raise_on_status=False) to become an
        # S3Error/ServerError that we map.
        data_retries = urllib3.Retry(
            total=3,
            connect=0,
            read=1,
            redirect=0,
            status=2,
            backoff_factor=0.2,
            status_forcelist=(500, 502, 503, 504),
            raise_on_status=False,
        )
        self._http = _pool(
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
            retries=data_retries,
        )
        # A separate pool for check(): tighter timeouts and no retries at all.
        self._check_http = _pool(
            timeout=urllib3.Timeout(total=CHECK_TIMEOUT, connect=CHECK_CONNECT_TIMEOUT),
            retries=urllib3.Retry(0, redirect=0),
        )
        # Passing the region stops minio from asking the server for the bucket
        # location, so presigning needs no network round trip.
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=self._http,
        )
        # Links people open go to the public address (nginx in front of the S3 server, which
        # passes the Host on): SigV4 signs the host, so they are signed for that host. With the
        # region given this client never connects; it only computes signatures.
        self._presign_client = self._client
        if public_url:
            public = urllib.parse.urlsplit(public_url)
            if public.scheme not in ("http", "https") or not public.netloc:
                raise StorageError(f"not an http(s) address: {public_url!r}")
            if public.path.strip("/") or public.query:
                raise StorageError("the public address cannot carry a path or query")
            self._presign_client = Minio(
                public.netloc,
                access_key=access_key,
                secret_key=secret_key,
                secure=public.scheme == "https",
                region=region,
                http_client=self._http,
            )
        self._check_client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=self._check_http,
        )

    def close(self) -> None:
        """Drop pooled connections."""
        self._http.clear()
        self._check_http.clear()

    # -- error mapping -------------------------------------------------------------

    async def _run(self, func: Callable[[], T], *, key: str | None = None) -> T:
        try:
            return await asyncio.to_thread(func)
        except S3Error as exc:
            if exc.code in _MISSING_CODES and key is not None:
                raise ObjectNotFound(key) from exc
            if exc.code == "NoSuchBucket":
                raise StorageUnavailable(f"bucket {self.bucket} does not exist") from exc
            if exc.code in _AUTH_CODES:
                raise StorageError(f"S3 refused the request: {exc.code}") from exc
            raise StorageError(f"S3 error: {exc.code}: {exc.message}") from exc
        except ServerError as exc:
            raise StorageUnavailable(f"S3 server error {exc.status_code}") from exc
        except InvalidResponseError as exc:
            # A non-S3 answer, e.g. an HTML error page from a proxy in front.
            raise StorageUnavailable(f"unexpected response from S3: {_describe(exc)}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise StorageUnavailable(
                f"cannot reach S3 at {self.endpoint}: {_describe(exc)}"
            ) from exc

    # -- ObjectStore ----------------------------------------------------------------

    async def put(self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Store data under key, replacing any existing object."""
        validate_key(key)
        payload = bytes(data)

        def call() -> None:
            self._client.put_object(
                self.bucket, key, io.BytesIO(payload), len(payload), content_type=content_type
            )

        await self._run(call, key=key)

    async def get(self, key: str) -> bytes:
        """Return the object's bytes; raise ObjectNotFound when missing."""
        validate_key(key)

        def call() -> bytes:
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                # Both are needed: close() ends the stream, release_conn()
                # returns the socket to the pool instead of leaking it.
                response.close()
                response.release_conn()

        return await self._run(call, key=key)

    async def stat(self, key: str) -> ObjectInfo | None:
        """Return the object's metadata, or None when missing."""
        validate_key(key)
        try:
            obj = await self._run(lambda: self._client.stat_object(self.bucket, key), key=key)
        except ObjectNotFound:
            return None
        return ObjectInfo(
            key=key,
            size=obj.size if obj.size is not None else 0,
            content_type=obj.content_type or DEFAULT_CONTENT_TYPE,
        )

    async def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        validate_key(key)
        # S3 DELETE already answers 204 for a missing key.
        await self._run(lambda: self._client.remove_object(self.bucket, key), key=key)

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under key."""
        return await self.stat(key) is not None

    async def presigned_get_url(
        self,
        key: str,
        *,
        expires: datetime.timedelta,
        now: datetime.datetime | None = None,
    ) -> str:
        """A SigV4 query-signed GET URL for the object, valid for expires."""
        validate_key(key)
        check_expiry(expires)
        # Pure computation (the region is known), so no worker thread.
        return self._presign_client.presigned_get_object(
            self.bucket, key, expires=expires, request_date=now
        )

    async def create_bucket_if_missing(self) -> None:
        """Create the bucket if it does not exist yet."""

        def call() -> None:
            if self._client.bucket_exists(self.bucket):
                return
            try:
                self._client.make_bucket(self.bucket)
            except S3Error as exc:
                # Another process created it between our HEAD and PUT.
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

        await self._run(call)

    async def check(self) -> None:
        """One HEAD on the bucket within ~1.8 s; raise StorageUnavailable on failure."""
        try:
            found = await self._run(lambda: self._check_client.bucket_exists(self.bucket))
        except StorageUnavailable:
            raise
        except StorageError as exc:
            raise StorageUnavailable(str(exc)) from exc
        if not found:
            raise StorageUnavailable(f"bucket {self.bucket} does not exist")
