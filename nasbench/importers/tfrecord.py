"""TFRecord files read without TensorFlow, and the CRC-32C checksum they use.

A TFRecord file is a sequence of records, each framed as (TensorFlow's
``tensorflow/core/lib/io/record_writer.h`` and the "TFRecords format details" section of
https://www.tensorflow.org/tutorials/load_data/tfrecord):

    uint64 length            (little endian)
    uint32 masked_crc32c(length bytes)
    byte   data[length]
    uint32 masked_crc32c(data)

where ``masked_crc(x) = ((crc >> 15) | (crc << 17)) + 0xa282ead8`` (mod 2^32) over the CRC-32C
(Castagnoli) checksum. Both checksums are verified: a damaged or truncated file is refused
with the offset of the bad record.

CRC-32C comes from the ``crc32c`` package when it is installed (hardware accelerated; the
``import`` extra of nasbench), else from the table-driven implementation here (RFC 3720,
appendix B.4), which is correct but slow (3.9 MB/s on a shared 2-core machine).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from nasbench.errors import UserError

_MASK_DELTA = 0xA282EAD8
_POLY = 0x82F63B78  # CRC-32C, reflected


def _table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _table()


def crc32c_python(data: bytes, crc: int = 0) -> int:
    """CRC-32C of ``data`` (continuing from ``crc``) in pure Python."""
    crc ^= 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _pick_crc32c() -> Callable[[bytes], int]:
    try:
        import crc32c as _fast  # type: ignore[import-not-found]
    except ImportError:
        return crc32c_python
    return _fast.crc32c


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (the ``crc32c`` package when installed)."""
    return _CRC(data)


_CRC = _pick_crc32c()


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data``."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    """One record framed as TFRecord writes it (for writing test files)."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc(length)) + data
            + struct.pack("<I", masked_crc(data)))


def read_records(path: Path, *, verify: bool = True,
                 progress: Callable[[int, int], None] | None = None) -> Iterator[bytes]:
    """The records of the TFRecord file ``path``, checksums verified.

    Args:
        path: the file.
        verify: check both CRCs of every record.
        progress: called with (bytes read, file size) after each record.

    Raises:
        UserError: naming the file and the offset of a truncated or corrupt record.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        yield from _records(f, path, size, verify, progress)


def _records(f: BinaryIO, path: Path, size: int, verify: bool,
             progress: Callable[[int, int], None] | None) -> Iterator[bytes]:
    offset = 0
    while True:
        header = f.read(12)
        if not header:
            return
        if len(header) < 12:
            raise _bad(path, offset, "the file ends inside a record header (truncated?)")
        (length,) = struct.unpack("<Q", header[:8])
        (length_crc,) = struct.unpack("<I", header[8:])
        if verify and masked_crc(header[:8]) != length_crc:
            raise _bad(path, offset, "the length's checksum does not match; this is not a "
                       "TFRecord file, or it is corrupt")
        if length > size - offset:
            raise _bad(path, offset, f"a record claims {length} bytes, more than the rest of the "
                       "file holds (truncated?)")
        data = f.read(length)
        footer = f.read(4)
        if len(data) < length or len(footer) < 4:
            raise _bad(path, offset, "the file ends inside a record (truncated?)")
        if verify and masked_crc(data) != struct.unpack("<I", footer)[0]:
            raise _bad(path, offset, "the record's data checksum does not match (corrupt file)")
        offset += 16 + length
        if progress is not None:
            progress(offset, size)
        yield data


def _bad(path: Path, offset: int, what: str) -> UserError:
    return UserError(
        f"{path}: bad TFRecord at byte {offset}: {what}. Download the release again and check "
        "its size and checksum (see docs/benchmarks.md)."
    )
