"""The Prometheus multiprocess directory (PROMETHEUS_MULTIPROC_DIR): which files a process writes, and clearing it
before a process group starts (the web container's gunicorn, the worker container's Celery, `make worker`).

prometheus_client names a process's files `<type>_<identifier>.db`. Ours is `<host>-<slot>`: the host keeps the
containers that share the directory apart, and the slot is the lowest number whose lock file (`slot-<host>-<n>.lock`)
no living process of this host holds; the process holds it until it ends. A process that replaces an ended one
(gunicorn recycles its workers after --max-requests) takes over its files and carries its counts on, so the directory
holds as many sets of files as processes ever ran at once, not one set per process ever started; a scrape reads them
all.

    python -m nextalerts.metricsdir     # before starting a group: clears the files of this host's free slots

Imports neither Django nor prometheus_client, so it writes no metric file of its own.
"""

import fcntl
import os
import socket
import sys
from pathlib import Path

HOST = socket.gethostname().replace("_", "-")  # prometheus_client splits the names on "_"
_held: dict[int, tuple[str, int]] = {}  # pid -> (identifier, the open lock file that holds its slot)


def _lock_path(directory, slot: int, host: str = HOST) -> Path:
    return Path(directory) / f"slot-{host}-{slot}.lock"


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding `path`'s lock, or None when a living process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def identifier(directory) -> str:
    """This process's `<host>-<slot>`, its slot taken on first use (and again in a forked child, whose parent
    holds the inherited one)."""
    pid = os.getpid()
    held = _held.get(pid)
    if held is not None:
        return held[0]
    slot = 0
    while (fd := _try_lock(_lock_path(directory, slot))) is None:
        slot += 1
    _held.clear()  # a forked child: the parent's slot is the parent's
    _held[pid] = (f"{HOST}-{slot}", fd)
    return _held[pid][0]


def clear(directory, *, host: str = HOST) -> list[str]:
    """Remove this host's files whose slot no living process holds; returns their names."""
    removed = []
    for file in sorted(Path(directory).glob("*.db")):
        owner = file.stem.rsplit("_", 1)[-1]  # counter_<host>-<slot>, histogram_<host>-<slot>, ...
        name, _, slot = owner.rpartition("-")
        if name != host or not slot.isdigit():
            continue
        fd = _try_lock(_lock_path(directory, int(slot), host))
        if fd is None:
            continue  # a living process writes it
        try:
            file.unlink(missing_ok=True)
            removed.append(file.name)
        finally:
            os.close(fd)
    return removed


def prepare(directory=None) -> list[str]:
    """The directory created if missing, and cleared (`clear`); nothing when no directory is configured."""
    directory = directory or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return []
    Path(directory).mkdir(parents=True, exist_ok=True)
    return clear(directory)


if __name__ == "__main__":
    removed = prepare()
    print(f"metrics directory: removed {len(removed)} file(s) of ended processes", file=sys.stderr)
