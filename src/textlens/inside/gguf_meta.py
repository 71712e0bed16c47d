"""The metadata of a GGUF file (its key-value fields and the shape of each tensor) without reading the rest.

``gguf.GGUFReader`` parses every field into numpy views, the tokenizer's 50,000 strings and merges included,
which takes seconds; the architecture facts need a dozen numbers and the tensor shapes. This reads the header
as the GGUF specification lays it out (little-endian: magic, version, tensor and field counts, the fields, the
tensor infos) and keeps only the length of an array.
"""

from __future__ import annotations

import math
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# value types of the GGUF specification: their struct formats (8: a string, 9: an array)
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class ArrayOf:
    """An array field, by its length only (a tokenizer's vocabulary, its merges)."""

    length: int


@dataclass
class GGUFMeta:
    fields: dict[str, Any]
    tensors: dict[str, int]  # name: number of elements


class _Cursor:
    def __init__(self, data: mmap.mmap) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> Any:
        value = struct.unpack_from("<" + fmt, self.data, self.at)[0]
        self.at += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        size = self.take("Q")
        self.at += size
        if self.at > len(self.data):
            raise ValueError("the file ends inside its metadata")
        return bytes(self.data[self.at - size : self.at]).decode("utf-8", errors="replace")

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.take(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind != _ARRAY:
            raise ValueError(f"unknown value type {kind}")
        item, length = self.take("I"), self.take("Q")
        if item in _SCALARS:  # skipped whole
            self.at += length * struct.calcsize(_SCALARS[item])
        else:
            for _ in range(length):
                self.value(item)
        return ArrayOf(length)


def read_meta(path: Path) -> GGUFMeta:
    """The fields and tensor sizes of the GGUF file at ``path``.

    Raises:
        ValueError: not a GGUF file, or one cut short.
    """
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:4] != b"GGUF":
            raise ValueError("no GGUF magic at the start")
        cur = _Cursor(data)
        cur.at = 4
        version = cur.take("I")
        if not 2 <= version <= 3:
            raise ValueError(f"GGUF version {version} (textlens reads versions 2 and 3, little-endian)")
        tensor_count, field_count = cur.take("Q"), cur.take("Q")
        try:
            fields = {}
            for _ in range(field_count):
                key = cur.string()
                fields[key] = cur.value(cur.take("I"))
            tensors = {}
            for _ in range(tensor_count):
                name = cur.string()
                dims = [cur.take("Q") for _ in range(cur.take("I"))]
                cur.at += 4 + 8  # the element type and the data offset
                tensors[name] = math.prod(dims)
        except struct.error as exc:
            raise ValueError("the file ends inside its metadata") from exc
    return GGUFMeta(fields, tensors)
