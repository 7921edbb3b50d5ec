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


def stop_processes(processes: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to each process group (runserver's reloader has a child), then SIGKILL to what is left."""
    for process in processes.values():
        if process.poll() is None:
            _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes.values():
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
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    processes: dict[str, subprocess.Popen] = {}
    for name, command in worker_commands(redis=bool(os.environ.get("REDIS_URL"))).items():
        processes[name] = subprocess.Popen(command, cwd=BASE_DIR, start_new_session=True)
        print(f"  {name:<8} pid {processes[name].pid:<7} {' '.join(command[1:])}", flush=True)
    exit_code = 0
    while not stopping:
        ended = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
        if ended:
            name, exit_code = next(iter(ended.items()))
            print(f"The {name} worker exited with status {exit_code}; stopping the others.", flush=True)
            exit_code = exit_code or 1
            break
        time.sleep(0.2)
    stop_processes(processes)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
