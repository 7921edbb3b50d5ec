"""`make run`: migrate and load the demo business, then the web server, a Celery worker and Celery beat, started
together and stopped together (Ctrl-C).

The worker and beat are the ones production runs; without REDIS_URL they share a broker in files (see the Celery
settings), so scheduled campaigns, quiet-hour releases, Retry-After retries, delivery reports and the daily
retention job all happen with no other server installed.

    python -m nextalerts.localrun --host 127.0.0.1 --port 8000
"""

import argparse
import ipaddress
import os
import socket
import subprocess
import sys
from pathlib import Path

from nextalerts import metricsdir
from nextalerts.workers import Supervisor, worker_commands

BASE_DIR = Path(__file__).resolve().parent.parent


def public_base_url(host: str, port: int) -> str:
    """Where people reach this server: the host it listens on, or this machine's own address when it listens on
    every interface (a phone on the same network can open that one)."""
    if host in ("0.0.0.0", "::", ""):
        host = _lan_address()
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _lan_address() -> str:
    """The address this machine uses for outgoing traffic (no packet is sent), else the loopback address."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routed like any outside address, never reached
            address = probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    return address if not ipaddress.ip_address(address).is_unspecified else "127.0.0.1"


def commands(*, host: str, port: int, reload: bool) -> dict[str, list[str]]:
    python = sys.executable
    state = BASE_DIR / "var"
    state.mkdir(exist_ok=True)
    web = [python, "manage.py", "runserver", f"{host}:{port}"] + ([] if reload else ["--noreload"])
    beat = [
        python, "-m", "celery", "-A", "nextalerts", "beat", "--loglevel=INFO",
        f"--schedule={state / 'celerybeat-schedule'}",
    ]  # fmt: skip
    # The workers `make worker` starts: replies served first, on a worker of their own with Redis.
    workers = worker_commands(redis=bool(os.environ.get("REDIS_URL")), name="worker")
    return {"web": web, **workers, "beat": beat}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--noreload", action="store_true", help="do not restart the web server when code changes")
    parser.add_argument("--no-setup", action="store_true", help="skip migrate and load_demo (the database is ready)")
    args = parser.parse_args(argv)

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "nextalerts.settings.local")  # every process of the run, the same
    env.setdefault("PUBLIC_BASE_URL", public_base_url(args.host, args.port))
    # One metrics directory for the web server, the workers and beat, so that /metrics shows the workers' sends too.
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(BASE_DIR / "var" / "metrics"))
    metricsdir.prepare(env["PROMETHEUS_MULTIPROC_DIR"])
    supervisor = Supervisor()  # from here on, Ctrl-C stops what was started and nothing is left behind

    # The database first, with the same environment (the demo's links and QR codes use PUBLIC_BASE_URL).
    for step in () if args.no_setup else (["migrate", "--noinput"], ["load_demo"]):
        if subprocess.run([sys.executable, "manage.py", *step], cwd=BASE_DIR, env=env).returncode:
            return 1

    print(f"Starting NextAlerts at {env['PUBLIC_BASE_URL']} (listening on {args.host}:{args.port}):", flush=True)
    broker = "Redis at REDIS_URL" if env.get("REDIS_URL") else "a broker in var/broker (no server needed)"
    for name, command in commands(host=args.host, port=args.port, reload=not args.noreload).items():
        supervisor.start(name, command, env=env)
    print(f"Tasks go through {broker}. Press Ctrl-C to stop them all.", flush=True)
    exit_code = supervisor.wait()
    print("Stopping the web server, the workers and beat…", flush=True)
    supervisor.stop()
    print("Stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
