"""Uploads in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, Garage...).

`STORAGE_URL=s3://bucket/prefix`; the endpoint comes from `S3_ENDPOINT_URL` (unset:
AWS, or boto3's own `AWS_ENDPOINT_URL_S3`), the credentials and region from boto3's
standard chain (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`,
`~/.aws`, an instance role).

Saving never makes a half object visible. The first part (8 MiB) is kept in memory
until the type is known from the first bytes; a file that fits in it is sent with one
PUT after every check passed. A larger one goes up as a multipart upload, which S3
shows as an object only when it is completed, after the last check; on any error
(too large, the store gone, the request cut) the upload is aborted. An abort that
cannot reach the store leaves an unfinished upload that no one can read; `sweep`
(and a bucket lifecycle rule) removes it.

Downloads are streamed through the app (not redirected to a presigned URL): the
same access check, headers (attachment, nosniff, no caching) and origin as a local
file, an object store that browsers never need to reach, and no cross-origin
navigation inside the LMS iframe. nginx buffers the response, so a slow client does
not hold a worker.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lti_tool.storage import (
    CHUNK,
    UNAVAILABLE,
    Entry,
    Intake,
    StorageError,
    StoredFile,
    check_name,
    new_name,
)

if TYPE_CHECKING:
    from flask import Response

log = logging.getLogger("lti_tool.storage")

#: Size of one part of a multipart upload (S3 needs at least 5 MiB but for the last).
PART = 8 * 1024 * 1024
_MISSING = {"NoSuchKey", "404", "NotFound"}

_clients: dict[str | None, Any] = {}
_clients_lock = threading.Lock()


def client(endpoint_url: str | None) -> Any:
    """One boto3 S3 client per endpoint and process (clients are thread-safe and slow
    to create). Short timeouts and few retries: an upload waits for the store, a
    person waits for the upload."""
    c = _clients.get(endpoint_url)
    if c is None:
        with _clients_lock:
            c = _clients.get(endpoint_url)
            if c is None:
                config = Config(
                    connect_timeout=5,
                    read_timeout=60,
                    retries={"max_attempts": 3, "mode": "standard"},
                    # S3-compatible servers: path-style addressing, and checksums only
                    # where S3 requires them (several servers refuse the newer ones).
                    s3={"addressing_style": "path" if endpoint_url else "auto"},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                )
                c = boto3.session.Session().client(
                    "s3", endpoint_url=endpoint_url or None, config=config
                )
                _clients[endpoint_url] = c
    return c


def _unavailable(exc: Exception, what: str) -> StorageError:
    log.warning("object store: %s failed: %s", what, exc)
    return StorageError(UNAVAILABLE, f"{what}: {exc}")


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


class _Body:
    """A download body for werkzeug: read and close only (no fileno, so no sendfile)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def read(self, size: int = -1) -> bytes:
        return self._body.read(size if size and size > 0 else None)

    def close(self) -> None:
        self._body.close()


class S3Storage:
    """One area of a bucket: objects under `prefix` (e.g. "lti/tugas/")."""

    def __init__(self, bucket: str, prefix: str, *, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url

    @property
    def client(self) -> Any:
        return client(self.endpoint_url)

    def key(self, name: str) -> str:
        return self.prefix + check_name(name)

    # -- saving ---------------------------------------------------------------------------

    def save(self, stream: BinaryIO, *, max_bytes: int, allowed: dict[str, str]) -> StoredFile:
        intake = Intake(max_bytes)
        buffer = bytearray()
        upload: _Multipart | None = None
        refused = False  # the type is known to be refused: read on (for the size), keep none
        try:
            while chunk := stream.read(CHUNK):
                intake.take(chunk)
                if refused:
                    continue
                buffer += chunk
                if len(buffer) < PART:
                    continue
                if upload is None:
                    mime = intake.mime()
                    if mime not in allowed:
                        refused = True
                        buffer = bytearray()
                        continue
                    upload = _Multipart(self, self.key(new_name(allowed[mime])), mime)
                upload.part(buffer)
                buffer = bytearray()
            mime, extension = intake.kind(allowed)
            if upload is None:
                key = self.key(new_name(extension))
                self._put(key, buffer, mime)
            else:
                if buffer:
                    upload.part(buffer)
                upload.complete()
                key = upload.key
            return intake.stored(key[len(self.prefix) :], mime)
        except BaseException:
            if upload is not None:
                upload.abort()
            raise

    def _put(self, key: str, data: bytearray, mime: str) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=mime)
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc, f"put {key}") from exc

    # -- reading ----------------------------------------------------------------------------

    def _get(self, name: str) -> dict[str, Any]:
        key = self.key(name)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise _unavailable(exc, f"get {key}") from exc
        except BotoCoreError as exc:
            raise _unavailable(exc, f"get {key}") from exc

    def open(self, name: str) -> BinaryIO:
        return self._get(name)["Body"]

    def exists(self, name: str) -> bool:
        key = self.key(name)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return False
            raise _unavailable(exc, f"head {key}") from exc
        except BotoCoreError as exc:
            raise _unavailable(exc, f"head {key}") from exc
        return True

    def send(self, name: str, *, mimetype: str, download_name: str, max_age: int = 0) -> Response:
        from flask import abort, send_file

        try:
            obj = self._get(name)
        except FileNotFoundError:
            abort(404)
        response = send_file(
            _Body(obj["Body"]),
            mimetype=mimetype,
            as_attachment=True,
            download_name=download_name,
            max_age=max_age,
            etag=str(obj.get("ETag") or "").strip('"') or False,
            last_modified=obj.get("LastModified"),
        )
        if response.status_code == 200:
            response.content_length = obj["ContentLength"]
        response.headers.pop("Accept-Ranges", None)  # ranges are not passed on
        return response

    # -- removing ---------------------------------------------------------------------------

    def delete(self, name: str) -> None:
        """Best effort: when the store cannot be reached the object stays (no row points
        to it any more, nobody can fetch it) and the failure is logged."""
        key = self.key(name)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            log.warning("object store: could not delete %s (left as a stray): %s", key, exc)

    def entries(self) -> Iterator[Entry]:
        try:
            pages = self.client.get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for obj in page.get("Contents", ()):
                    yield Entry(
                        name=obj["Key"][len(self.prefix) :],
                        size=obj["Size"],
                        modified=_naive(obj["LastModified"]),
                    )
            for upload in self._unfinished():
                yield Entry(
                    name=upload["Key"][len(self.prefix) :],
                    size=0,
                    modified=_naive(upload["Initiated"]),
                    temporary=True,
                )
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc, f"list {self.prefix}") from exc

    def _unfinished(self) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("list_multipart_uploads")
        for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
            yield from page.get("Uploads", ())

    def sweep(self, keep: set[str], older_than: datetime) -> int:
        removed = 0
        try:
            for upload in list(self._unfinished()):
                if _naive(upload["Initiated"]) < older_than:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    removed += 1
            for entry in list(self.entries()):
                if not entry.temporary and entry.name not in keep and entry.modified < older_than:
                    self.client.delete_object(Bucket=self.bucket, Key=self.prefix + entry.name)
                    removed += 1
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc, f"sweep {self.prefix}") from exc
        return removed


def _naive(moment: datetime) -> datetime:
    """A boto3 time (aware) as the tool keeps times: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class _Multipart:
    """A multipart upload of one key: created on the first part, completed or aborted."""

    def __init__(self, store: S3Storage, key: str, mime: str) -> None:
        self.store, self.key, self.mime = store, key, mime
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    def _call(self, what: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.store.client, what)(
                Bucket=self.store.bucket, Key=self.key, **kwargs
            )
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc, f"{what} {self.key}") from exc

    def part(self, data: bytearray) -> None:
        if self.upload_id is None:
            created = self._call("create_multipart_upload", ContentType=self.mime)
            self.upload_id = created["UploadId"]
        number = len(self.parts) + 1
        done = self._call("upload_part", UploadId=self.upload_id, PartNumber=number, Body=data)
        self.parts.append({"ETag": done["ETag"], "PartNumber": number})

    def complete(self) -> None:
        self._call(
            "complete_multipart_upload",
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )
        self.upload_id = None

    def abort(self) -> None:
        if self.upload_id is None:
            return
        # a failure is logged; the unfinished upload is invisible and swept later
        with contextlib.suppress(StorageError):
            self._call("abort_multipart_upload", UploadId=self.upload_id)
        self.upload_id = None
