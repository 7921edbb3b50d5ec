"""Clears the Prometheus multiprocess directory (PROMETHEUS_MULTIPROC_DIR) of the files that processes of this host
which are no longer running left there, before a process group starts: the web container's gunicorn, the worker
container's Celery, `make worker`.

Files of live processes are kept, and so are those of other hosts (containers sharing the directory): each is named
`<type>_<host>-<pid>.db` by nextalerts/metrics.py. A count that a process made before it ended leaves the totals then,
as at any restart (Prometheus reads the drop as a counter reset).

    python -m nextalerts.metricsdir

Imports neither Django nor prometheus_client, so it writes no file of its own.
"""

import os
import socket
import sys
from pathlib import Path


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True


def clear(path: str | os.PathLike, *, host: str | None = None) -> list[str]:
    """Remove this host's files whose process has ended; returns their names."""
    host = host or socket.gethostname().replace("_", "-")
    removed = []
    for file in sorted(Path(path).glob("*.db")):
        owner = file.stem.rsplit("_", 1)[-1]  # counter_<host>-<pid>, gauge_livesum_<host>-<pid>, ...
        name, _, pid = owner.rpartition("-")
        if name == host and pid.isdigit() and not _running(int(pid)):
            file.unlink(missing_ok=True)
            removed.append(file.name)
    return removed


def prepare(path: str | os.PathLike | None = None) -> list[str]:
    """The directory created if missing, and cleared (`clear`); nothing when no directory is configured."""
    path = path or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return []
    Path(path).mkdir(parents=True, exist_ok=True)
    return clear(path)


if __name__ == "__main__":
    removed = prepare()
    print(f"metrics directory: removed {len(removed)} file(s) of ended processes", file=sys.stderr)
