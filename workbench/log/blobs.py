"""Content-addressed blobs beside a session's bundle: the bytes files held before and after agents changed them.

A blob is named by the SHA-256 of its bytes, so the same content is kept once
however often it is written (an agent editing a file back and forth, two agents
writing the same file). Blobs are appended to one pack file, ``blobs.pack`` in
the session's folder, each record a fixed header (magic, digest, codec, sizes)
and the bytes, zlib-compressed when that makes them smaller. One file rather
than a file per blob: a thousand small versions cost a thousand headers, not a
thousand disk blocks.

The index is the pack itself, read once when the store is first used. A record
cut short by a crash is never referenced (the event naming a blob is written
after the blob), and is cut off before the next append.
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
import zlib
from pathlib import Path

BLOBS_FILE = "blobs.pack"
MAGIC = b"WBB1"
# magic, sha256 digest, codec (0 raw, 1 zlib), size of the bytes, size stored
HEADER = struct.Struct(">4s32sBQQ")
RAW, ZLIB = 0, 1
MAX_BLOB_BYTES = 16 << 20  # a file larger than this is recorded as changed, without its bytes
FILE_MODE = 0o600


class BlobError(Exception):
    """A blob that is not in the store, or whose stored bytes do not match its name."""


def blob_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """The blobs of one session. Safe to use from several threads of one process."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / BLOBS_FILE
        self._index: dict[str, tuple[int, int, int]] | None = None  # digest → (offset of data, codec, stored size)
        self._end = 0  # where the last whole record ends
        self._lock = threading.Lock()

    def put(self, data: bytes) -> str:
        """Keep ``data``; its name. Content already kept is not written again."""
        digest = blob_id(data)
        with self._lock:
            index = self._loaded()
            if digest in index:
                return digest
            packed = zlib.compress(data, 6)
            codec, stored = (ZLIB, packed) if len(packed) < len(data) else (RAW, data)
            record = HEADER.pack(MAGIC, bytes.fromhex(digest), codec, len(data), len(stored)) + stored
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
            try:
                if os.fstat(fd).st_size != self._end:  # a record torn by a crash: it goes
                    os.ftruncate(fd, self._end)
                os.lseek(fd, self._end, os.SEEK_SET)
                view = memoryview(record)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            index[digest] = (self._end + HEADER.size, codec, len(stored))
            self._end += len(record)
            return digest

    def get(self, digest: str) -> bytes:
        with self._lock:
            where = self._loaded().get(digest)
        if where is None:
            raise BlobError(f"blob {digest[:12]} is not in {self.path}")
        offset, codec, size = where
        with open(self.path, "rb") as f:
            f.seek(offset)
            stored = f.read(size)
        try:
            data = zlib.decompress(stored) if codec == ZLIB else stored
        except zlib.error:
            data = b""
        if blob_id(data) != digest:
            raise BlobError(f"blob {digest[:12]} in {self.path} is damaged")
        return data

    def __contains__(self, digest: object) -> bool:
        with self._lock:
            return digest in self._loaded()

    @property
    def size(self) -> int:
        """Bytes the pack takes (headers included)."""
        with self._lock:
            self._loaded()
            return self._end

    def _loaded(self) -> dict[str, tuple[int, int, int]]:
        if self._index is None:
            self._index, self._end = _read_index(self.path)
        return self._index


def _read_index(path: Path) -> tuple[dict[str, tuple[int, int, int]], int]:
    """Every whole record of the pack, and where the last one ends."""
    index: dict[str, tuple[int, int, int]] = {}
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return index, 0
    with f:
        total = os.fstat(f.fileno()).st_size
        end = 0
        while end + HEADER.size <= total:
            f.seek(end)
            magic, digest, codec, _, stored = HEADER.unpack(f.read(HEADER.size))
            data_at = end + HEADER.size
            if magic != MAGIC or codec not in (RAW, ZLIB) or data_at + stored > total:
                break  # torn (or not a pack past here): what follows is cut off at the next append
            index[digest.hex()] = (data_at, codec, stored)
            end = data_at + stored
    return index, end
