"""File storage for uploads: streamed, atomic, named by the tool, checked by content.

A file is copied to a temporary file in the target folder in chunks (never held in
memory whole), its size limited while copying, its type recognised from its first
bytes (not from its name), and only then renamed into place under a generated
name: a crash or a refused file leaves nothing half-written behind. Local folder
storage is the embedded default (under the instance folder).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype

CHUNK = 64 * 1024

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
    """A refused file; `code` says why (empty, too_large, type)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


@dataclass(frozen=True)
class StoredFile:
    name: str  # the generated name inside the storage folder
    size: int
    sha256: str
    mime: str


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


class LocalStorage:
    """Files in a folder; the folder is created on first use."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        if "/" in name or "\\" in name or name.startswith("."):
            raise StorageError("name", name)
        return self.root / name

    def save(self, stream: BinaryIO, *, max_bytes: int, allowed: dict[str, str]) -> StoredFile:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise StorageError("too_large", f"over {max_bytes} bytes")
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise StorageError("empty")
            mime = sniff(head)
            if mime not in allowed:
                raise StorageError("type", mime or "unknown")
            name = f"{secrets.token_hex(16)}.{allowed[mime]}"
            os.replace(tmp, self.root / name)
            return StoredFile(name=name, size=size, sha256=digest.hexdigest(), mime=mime)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)
