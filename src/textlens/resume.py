"""Results of a long run written one JSON line per finished item, so that a run cut short
(a timeout, Ctrl-C, SIGKILL) keeps what it finished and the same command goes on from there.

Each line is flushed and synced before the next item starts. A last line without its newline
(the process died while writing it) is cut off when the file is opened again; any other line
that is not a JSON object with the key field is an error naming the file and line, and the
file is left as it is.

Example:
    >>> with ResumableOutput(Path("out.jsonl")) as out:
    ...     for doc_id, text in docs:
    ...         if doc_id not in out.done:
    ...             out.write({"id": doc_id, "label": classify(text)})
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from textlens.errors import InputError
from textlens.jsonl import json_lines


class ResumableOutput:
    """A JSONL file of finished rows keyed by ``key`` (see the module docs)."""

    def __init__(self, path: Path, key: str = "id") -> None:
        self.path, self.key = Path(path), key
        self.done: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            self._read()
        self._fh = self.path.open("a", encoding="utf-8")

    def _read(self) -> None:
        raw = self.path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        if len(complete) < len(raw):  # a line cut short by a crash: not a result
            with self.path.open("r+b") as fh:
                fh.truncate(len(complete))
        hint = "This file is where finished results go; give a new --output, or remove the broken line."
        for number, row in json_lines(complete.decode("utf-8").splitlines(), self.path, hint):
            if not isinstance(row, dict) or self.key not in row:
                raise InputError(
                    f"{self.path}, line {number}: a row without the field {self.key!r}",
                    hint="This is not a results file of this command; give a new --output.",
                )
            self.done[str(row[self.key])] = row

    def write(self, row: dict[str, Any]) -> None:
        """Append one finished row (flushed and synced)."""
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.done[str(row[self.key])] = row

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> ResumableOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
