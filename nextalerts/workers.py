"""`make worker`: the Celery workers that send, started together and stopped together (Ctrl-C).

Replies (consent answers, opt-in texts, one-to-one messages) have a queue of their own (REPLY_QUEUE). With
Redis, a worker serves that queue alone, so a reply never waits for a process that campaign work occupies, and a
second worker serves both queues, replies listed first. Without Redis the send-rate slots live in one process's
memory (campaigns/ratelimit.py), so a single threaded worker serves both queues: two processes would each keep a
schedule of their own and could together drive a number faster than its rate.

    python -m nextalerts.workers
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from nextalerts import metricsdir

BASE_DIR = Path(__file__).resolve().parent.parent
# The replies' queue, and the default queue of everything else (settings.CELERY_TASK_ROUTES routes to them). Other
# names only to share one Redis between separate deployments (or test runs).
REPLY_QUEUE = os.environ.get("CELERY_REPLY_QUEUE") or "replies"
DEFAULT_QUEUE = os.environ.get("CELERY_DEFAULT_QUEUE") or "celery"
# Seconds each process gets to finish its current work after Ctrl-C before it is killed.
STOP_GRACE_SECONDS = 10.0
# Processes of the replies-only worker: a reply sleeps at most about a slot and a half for its turn.
REPLY_CONCURRENCY = 2
# Threads of the single local worker: campaign tasks give their thread back within seconds, replies take the next.
LOCAL_CONCURRENCY = 8


def worker_commands(*, redis: bool, name: str = "worker") -> dict[str, list[str]]:
    celery = [sys.executable, "-m", "celery", "-A", "nextalerts", "worker", "--loglevel=INFO"]
    both = f"{REPLY_QUEUE},{DEFAULT_QUEUE}"
    if not redis:
        return {
            name: celery + [
                f"--hostname={name}@%h", f"--queues={both}",
                # Threads share the process's send-rate reservations (there is no Redis to share them through).
                "--pool=threads", f"--concurrency={LOCAL_CONCURRENCY}",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]
        }  # fmt: skip
    return {
        "replies": celery + [
            "--hostname=replies@%h", f"--queues={REPLY_QUEUE}", f"--concurrency={REPLY_CONCURRENCY}"
        ],
        name: celery + [f"--hostname={name}@%h", f"--queues={both}"],
    }  # fmt: skip


class Supervisor:
    """Processes started together and stopped together: at SIGINT or SIGTERM to this process, or as soon as one of
    them exits. Each runs in a process group of its own, so Ctrl-C reaches this process only, and it stops them."""

    def __init__(self):
        self.processes: dict[str, subprocess.Popen] = {}
        self.stopping = False
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)

    def _request_stop(self, signum, frame):
        self.stopping = True

    def start(self, name: str, command: list[str], *, env: dict | None = None) -> None:
        self.processes[name] = subprocess.Popen(command, cwd=BASE_DIR, env=env, start_new_session=True)
        print(f"  {name:<8} pid {self.processes[name].pid:<7} {' '.join(command[1:])}", flush=True)

    def wait(self) -> int:
        """Until a stop is asked for (0) or a process exits (its status, 1 if that was 0)."""
        while not self.stopping:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    print(f"The {name} process exited with status {process.returncode}; stopping the others.",
                          flush=True)  # fmt: skip
                    return process.returncode or 1
            time.sleep(0.2)
        return 0

    def stop(self) -> None:
        """SIGTERM to each process group (runserver's reloader has a child), then SIGKILL to what is left."""
        for process in self.processes.values():
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nextalerts.settings.local")  # the workers inherit it
    # With PROMETHEUS_MULTIPROC_DIR set: what this host's ended processes left there goes, before ours write.
    metricsdir.prepare()
    supervisor = Supervisor()
    for name, command in worker_commands(redis=bool(os.environ.get("REDIS_URL"))).items():
        supervisor.start(name, command)
    exit_code = supervisor.wait()
    supervisor.stop()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
