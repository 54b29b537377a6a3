"""File storage for uploads: streamed, atomic, named by the tool, checked by content.

Every upload goes through one small interface (`Storage`): `save` a stream, `open`
a stored file, `exists`, `delete`, `send` it as an attachment, list its `entries`
and `sweep` what no row points to. `storage_for(area)` gives the storage of one area
(a plugin's folder or key prefix) as `STORAGE_URL` says:

- unset: a folder under the instance folder (`<instance>/uploads/<area>`);
- `file:///srv/lti/files`: a folder of your choice (`/srv/lti/files/<area>`);
- `s3://bucket/prefix`: S3-compatible object storage (`lti_tool.storage_s3`).

Whatever the backend, a file is copied in chunks (never held whole in memory), its
size limited while copying, its type recognised from its first bytes (not from its
name), and only then put in place under a generated name: a crash, a refused file or
an object store that goes away leaves nothing half-stored behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol
from urllib.parse import unquote, urlsplit

import filetype

if TYPE_CHECKING:
    from flask import Flask, Response

log = logging.getLogger("lti_tool.storage")

CHUNK = 64 * 1024
#: How many first bytes recognise a type (and how many `StoredFile.head` keeps).
HEAD = 8192
#: Prefix of local temporary files (a name the tool never generates for a stored file).
TEMP_PREFIX = ".upload-"

#: MIME types accepted for learning material, with the extension stored files get.
MATERIAL_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.text": "odt",
    "image/png": "png",
    "image/jpeg": "jpg",
    "video/mp4": "mp4",
    "text/plain": "txt",
}


class StorageError(ValueError):
    """A refused file or a failed store; `code` says why: empty, too_large, type, name,
    or storage_unavailable (the object store could not be reached: nothing was
    stored, the user may try again later)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


UNAVAILABLE = "storage_unavailable"


@dataclass(frozen=True)
class StoredFile:
    name: str  # the generated name inside the storage area
    size: int
    sha256: str
    mime: str
    #: The first bytes of the file (up to HEAD), for checks that look at the content.
    head: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class Entry:
    """One thing in a storage area: a stored file, or (`temporary`) a copy that never
    finished (a local temporary file, an unfinished multipart upload)."""

    name: str
    size: int
    modified: datetime  # naive UTC
    temporary: bool = False


class Storage(Protocol):
    """What every backend offers; callers never touch folders or buckets themselves."""

    def save(self, stream: BinaryIO, *, max_bytes: int, allowed: dict[str, str]) -> StoredFile:
        """Copy `stream` in; refused (StorageError) with nothing stored when it is
        empty, over `max_bytes`, of a type not in `allowed` (MIME -> extension), or
        when the store fails."""
        ...

    def open(self, name: str) -> BinaryIO:
        """The stored file for reading (FileNotFoundError when there is none)."""
        ...

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None:
        """Remove a stored file; a missing one is not an error."""
        ...

    def send(self, name: str, *, mimetype: str, download_name: str, max_age: int = 0) -> Response:
        """The file as a download (an attachment named `download_name`); 404 when
        there is none."""
        ...

    def entries(self) -> Iterator[Entry]:
        """Everything in the area, unfinished copies included."""
        ...

    def sweep(self, keep: set[str], older_than: datetime) -> int:
        """Remove what is not in `keep` and was last changed before `older_than`
        (naive UTC): files whose row never committed, copies of a process that died.
        Returns how many were removed."""
        ...


def sniff(head: bytes) -> str | None:
    """The MIME type of a file from its first bytes; plain UTF-8 text counts as text."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # a multi-byte character cut at the end of the sample is still text
            if exc.start < len(head) - 3:
                return None
        return "text/plain"
    return None


def check_name(name: str) -> str:
    """A stored name as the tool generates it: no folder parts, no hidden names."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise StorageError("name", name)
    return name


def new_name(extension: str) -> str:
    return f"{secrets.token_hex(16)}.{extension}"


class Intake:
    """Counts, hashes and samples a stream while it is copied; refuses it as soon as it
    is too large, and at the end when it is empty or of a type not allowed."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.head = b""
        self.digest = hashlib.sha256()

    def take(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise StorageError("too_large", f"over {self.max_bytes} bytes")
        if len(self.head) < HEAD:
            self.head += chunk[: HEAD - len(self.head)]
        self.digest.update(chunk)

    def mime(self) -> str | None:
        return sniff(self.head)

    def kind(self, allowed: dict[str, str]) -> tuple[str, str]:
        """(MIME type, extension) of the whole stream, once it has been read."""
        if self.size == 0:
            raise StorageError("empty")
        mime = self.mime()
        if mime not in allowed:
            raise StorageError("type", mime or "unknown")
        return mime, allowed[mime]

    def stored(self, name: str, mime: str) -> StoredFile:
        return StoredFile(
            name=name, size=self.size, sha256=self.digest.hexdigest(), mime=mime, head=self.head
        )


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


class LocalStorage:
    """Files in a folder; the folder is created on first use. A file is written to a
    temporary file in the same folder, synced, and renamed into place."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def save(self, stream: BinaryIO, *, max_bytes: int, allowed: dict[str, str]) -> StoredFile:
        self.root.mkdir(parents=True, exist_ok=True)
        intake = Intake(max_bytes)
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    intake.take(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            mime, extension = intake.kind(allowed)
            name = new_name(extension)
            os.replace(tmp, self.root / name)
            return intake.stored(name, mime)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def open(self, name: str) -> BinaryIO:
        return self.path(name).open("rb")

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def send(self, name: str, *, mimetype: str, download_name: str, max_age: int = 0) -> Response:
        from flask import abort, send_file

        path = self.path(name)
        if not path.is_file():
            abort(404)
        return send_file(
            path,
            mimetype=mimetype,
            as_attachment=True,
            download_name=download_name,
            max_age=max_age,
        )

    def entries(self) -> Iterator[Entry]:
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if path.is_file():
                st = path.stat()
                yield Entry(
                    name=path.name,
                    size=st.st_size,
                    modified=_utc(st.st_mtime),
                    temporary=path.name.startswith(TEMP_PREFIX),
                )

    def sweep(self, keep: set[str], older_than: datetime) -> int:
        removed = 0
        for entry in list(self.entries()):
            if entry.name not in keep and entry.modified < older_than:
                (self.root / entry.name).unlink(missing_ok=True)
                removed += 1
        return removed


# -- which storage ------------------------------------------------------------------------

_AREA = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def parse_url(url: str | None) -> tuple[str, str, str]:
    """("local", folder or "", "") or ("s3", bucket, key prefix) from STORAGE_URL;
    a value that does not fit raises ValueError naming the variable."""
    if not url:
        return "local", "", ""
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = unquote(parts.path)
        if parts.netloc not in ("", "localhost") or not path.startswith("/"):
            raise ValueError(f"STORAGE_URL must be file:///absolute/path, got {url!r}")
        return "local", path, ""
    if parts.scheme == "s3":
        bucket = parts.netloc
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise ValueError(f"STORAGE_URL needs a bucket name: s3://bucket/prefix, got {url!r}")
        return "s3", bucket, parts.path.strip("/")
    raise ValueError(f"STORAGE_URL must start with file:// or s3://, got {url!r}")


def storage_for(area: str, app: Flask | None = None) -> Storage:
    """The storage of one area (e.g. "tugas") of this app."""
    from flask import current_app

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if not _AREA.match(area):
        raise ValueError(f"bad storage area {area!r}")
    kind, where, prefix = parse_url(app.config.get("STORAGE_URL"))
    if kind == "s3":
        from lti_tool.storage_s3 import S3Storage

        key_prefix = f"{prefix}/{area}/" if prefix else f"{area}/"
        return S3Storage(where, key_prefix, endpoint_url=app.config.get("S3_ENDPOINT_URL"))
    base = Path(where) if where else Path(app.instance_path) / "uploads"
    return LocalStorage(base / area)


def init_app(app: Flask) -> None:
    """Refuse a bad STORAGE_URL at start-up; show an unreachable store as a clear page."""
    kind, _where, _prefix = parse_url(app.config.get("STORAGE_URL"))
    if kind == "s3":
        from lti_tool.storage_s3 import client

        # boto3 and its client cost ~30 MB and a second: pay at start-up (no network
        # call), not during a user's first upload.
        client(app.config.get("S3_ENDPOINT_URL"))

    @app.errorhandler(StorageError)
    def storage_error(exc: StorageError):
        from flask import render_template
        from flask_babel import gettext as _

        if exc.code == UNAVAILABLE:
            message = _(
                "The file store cannot be reached right now. Nothing was changed: "
                "try again in a few minutes."
            )
            status = 503
        else:
            message = _("This file cannot be used.")
            status = 400
        return render_template("error.html", title=message, message=message, code=status), status
