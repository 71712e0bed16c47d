"""Read replicas: a collection opened with a primary and hot standbys writes to the primary and spreads its
searches over the standbys.

The backend URL names them in libpq's multi-host form, the primary first::

    postgresql://USER@PRIMARY:5432,REPLICA1:5432,REPLICA2:5432/DATABASE

Each server's role is checked when the collection opens (the first must accept writes, the others must be in
recovery). A search goes to the next replica in turn; one that fails (its server stopped, the connection lost)
is marked down for :data:`RETRY_AFTER` seconds and the search runs again on the next (the primary when none is
left), so a replica dying costs no search; it rejoins when a connection succeeds again. Read-your-writes: after
this process writes, a search waits (at most :data:`CATCH_UP` seconds) until its replica has replayed the
write's WAL position, else it reads from the primary; one more than :data:`MAX_LAG` bytes of WAL behind that
write is passed over at once. A replica that far behind the primary when the collection opens is logged.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

from textlens.index.postgres.connection import BackendError, connect, redact

RETRY_AFTER = 5.0
CATCH_UP = 5.0
MAX_LAG = 64 * 1024 * 1024

log = logging.getLogger("textlens.postgres")


class ReplicaLost(BackendError):
    """A replica failed during a search (the search runs again elsewhere)."""


def split_hosts(url: str) -> tuple[str, list[str]]:
    """A multi-host URL as one connection string per host: the primary's and the replicas'."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        parts = conninfo_to_dict(url)
    except Exception:
        return url, []
    hosts = str(parts.get("host") or "").split(",")
    if len(hosts) < 2:
        return url, []
    ports = str(parts.get("port") or "").split(",")
    if len(ports) not in (1, len(hosts)):
        raise BackendError(
            f"the backend URL names {len(hosts)} hosts and {len(ports)} ports",
            hint="Give one port for all hosts, or one for each (host1:port1,host2:port2).",
        )
    ports = ports * len(hosts) if len(ports) == 1 else ports
    one = [make_conninfo(**{**parts, "host": h, "port": p}) for h, p in zip(hosts, ports, strict=True)]
    return one[0], one[1:]


@dataclass
class Replica:
    url: str
    down_until: float = 0.0
    served: int = 0  # snapshots taken on it
    conns: threading.local = field(default_factory=threading.local)

    @property
    def conn(self):
        conn = getattr(self.conns, "db", None)
        if conn is None or conn.closed:
            conn = self.conns.db = connect(self.url)
        return conn

    def close(self) -> None:
        conn = getattr(self.conns, "db", None)
        if conn is not None:
            conn.close()


class Replicas:
    """The standbys a collection reads from (see the module's docstring)."""

    def __init__(self, urls: list[str]) -> None:
        self.members = [Replica(u) for u in urls]
        self._turn = itertools.cycle(range(len(self.members)))
        self._lock = threading.Lock()
        self.written_lsn: str | None = None  # the WAL position of this process's last write

    def __bool__(self) -> bool:
        return bool(self.members)

    def check_roles(self, primary, primary_url: str) -> None:
        """The primary accepts writes, every replica is a standby: else a clear error."""
        if primary.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
            raise BackendError(
                f"{redact(primary_url)}, the first host of the backend URL, is a standby (read-only): the first "
                "host must be the primary",
                hint="Put the primary first, then the replicas: postgresql://USER@PRIMARY,REPLICA1,REPLICA2/DB.",
            )
        now = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        for member in self.members:
            conn = member.conn
            if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                raise BackendError(
                    f"{redact(member.url)} is named as a replica but is a primary (it accepts writes)",
                    hint="Name only hot standbys after the first host (`textlens postgres start --standby-of URL` "
                    "makes one).",
                )
            behind = conn.execute("SELECT %s::pg_lsn - pg_last_wal_replay_lsn()", (now,)).fetchone()[0]
            if behind is not None and behind > MAX_LAG:
                log.warning("replica %s is %.0f MB of WAL behind the primary", redact(member.url), behind / 2**20)

    def wrote(self, primary) -> None:
        self.written_lsn = str(primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0])

    def pick(self) -> Replica | None:
        """The next replica that is up and caught up with this process's writes, or ``None`` (read from the
        primary)."""
        for _ in range(len(self.members)):
            with self._lock:
                member = self.members[next(self._turn)]
            if member.down_until > time.monotonic():
                continue
            try:
                if self.written_lsn is None or self._caught_up(member):
                    member.served += 1
                    return member
            except BackendError as exc:
                self.down(member, exc)
            except Exception as exc:  # psycopg.OperationalError: the server went away
                self.down(member, exc)
        return None

    def _caught_up(self, member: Replica) -> bool:
        end = time.monotonic() + CATCH_UP
        while True:
            row = member.conn.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn, %s::pg_lsn - pg_last_wal_replay_lsn()",
                (self.written_lsn, self.written_lsn),
            ).fetchone()
            if row[0]:
                return True
            if row[1] > MAX_LAG or time.monotonic() > end:
                return False
            time.sleep(0.01)

    def down(self, member: Replica, exc: Exception) -> None:
        member.down_until = time.monotonic() + RETRY_AFTER
        log.warning("replica %s is down for %.0f s: %s", redact(member.url), RETRY_AFTER, exc)
        with contextlib.suppress(Exception):  # a broken connection may fail to close; it is dropped either way
            member.close()

    def close(self) -> None:
        for member in self.members:
            with contextlib.suppress(Exception):
                member.close()

    def describe(self) -> list[dict]:
        now = time.monotonic()
        return [{"url": redact(m.url), "up": m.down_until <= now, "searches": m.served} for m in self.members]
