"""The dependency locks and the vulnerability audit: production installs only the runtime lock, development the same
pins plus its tools; both carry hashes, agree with pyproject.toml and are what `make lock` makes; and the audit
(.ci/audit_dependencies.py) fails on a known vulnerability and says plainly what it could not check."""

import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
AUDIT = ROOT / ".ci" / "audit_dependencies.py"
# A requirement of a pip-compile lock: "name==version \" and its "--hash=sha256:..." continuation lines.
LOCKED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:[ \t]*\\\n[ \t]+--hash=\S+)*)", re.MULTILINE)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_pins(group: str | None) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] if group is None else project["optional-dependencies"][group]
    pins = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)", requirement)
        assert match, f"pin {requirement!r} exactly (name==version) in pyproject.toml"
        pins[canonical(match.group(1))] = match.group(2)
    return pins


def read_lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Each locked package: (its version, its hashes)."""
    return {
        canonical(name): (version, re.findall(r"--hash=(\S+)", hashes))
        for name, version, hashes in LOCKED.findall(path.read_text())
    }


@pytest.fixture(scope="module")
def runtime_lock():
    return read_lock(RUNTIME_LOCK)


@pytest.fixture(scope="module")
def dev_lock():
    return read_lock(DEV_LOCK)


# --- the locks -----------------------------------------------------------------------------------------------------


def test_the_lock_parser_reads_every_requirement_line():
    # Guards the regex: a requirement it skipped would escape every test below.
    for path in (RUNTIME_LOCK, DEV_LOCK):
        lines = re.findall(r"^[A-Za-z0-9][^\s#]*==", path.read_text(), re.MULTILINE)
        assert len(lines) == len(read_lock(path)) > 20, path.name


def test_runtime_lock_pins_every_runtime_dependency_at_its_pyproject_version(runtime_lock):
    expected = pyproject_pins(None)
    locked = {name: runtime_lock.get(name, ("missing",))[0] for name in expected}
    assert locked == expected, "run make lock after changing pyproject.toml"


def test_runtime_lock_holds_no_development_tool(runtime_lock):
    """The production image installs the runtime lock: no test runner, browser driver or linter in it."""
    tools = set(pyproject_pins("dev")) - set(pyproject_pins(None))
    assert {"pytest", "selenium", "ruff"} <= tools
    assert sorted(tools & set(runtime_lock)) == []


def test_development_lock_pins_every_dependency_and_tool_at_its_pyproject_version(dev_lock):
    expected = pyproject_pins(None) | pyproject_pins("dev")
    locked = {name: dev_lock.get(name, ("missing",))[0] for name in expected}
    assert locked == expected, "run make lock after changing pyproject.toml"


def test_development_lock_holds_the_runtime_pins_with_the_same_hashes(runtime_lock, dev_lock):
    """Tests run on exactly the versions (and files) production runs."""
    differing = {name: (pin, dev_lock.get(name)) for name, pin in runtime_lock.items() if dev_lock.get(name) != pin}
    assert differing == {}, "run make lock: the development lock must be compiled against requirements.lock"


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda path: path.name)
def test_every_locked_requirement_carries_sha256_hashes(lock):
    unhashed = [name for name, (_v, hashes) in read_lock(lock).items() if not hashes]
    assert unhashed == [], f"run make lock: {lock.name} has requirements without hashes"
    assert all(h.startswith("sha256:") for _v, hashes in read_lock(lock).values() for h in hashes)


@pytest.mark.parametrize(
    "lock, options",
    [
        (RUNTIME_LOCK, ["--generate-hashes", "--output-file=requirements.lock"]),
        (
            DEV_LOCK,
            [
                "--generate-hashes",
                "--extra=dev",
                "--constraint=requirements.lock",
                "--output-file=requirements-dev.lock",
            ],
        ),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else "",
)
def test_each_lock_is_what_make_lock_compiles_from_pyproject(lock, options):
    header = re.search(r"^#\s+(pip-compile .*)$", lock.read_text(), re.MULTILINE)
    assert header, f"{lock.name} was not made by pip-compile (run make lock)"
    command = header.group(1).split()
    assert command[-1] == "pyproject.toml"
    assert set(options) <= set(command), command


# --- what installs them --------------------------------------------------------------------------------------------


def make_dry_run(target: str, directory: Path = ROOT, **variables) -> str:
    arguments = [f"{name}={value}" for name, value in variables.items()]
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target, *arguments],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_dockerfile_installs_the_runtime_lock_only_with_hashes_required():
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"^RUN pip install (.*)$", dockerfile, re.MULTILINE)
    assert installs == ["--require-hashes -r requirements.lock"]
    assert "requirements-dev" not in dockerfile
    assert "requirements-dev.lock" in (ROOT / ".dockerignore").read_text().split()


def test_make_install_installs_the_development_lock_with_hashes_required(tmp_path):
    commands = make_dry_run("install", VENV=tmp_path / "venv")
    assert "pip install --quiet --require-hashes -r requirements-dev.lock" in commands
    assert "requirements.lock" not in commands.replace("requirements-dev.lock", "")


def test_make_install_reinstalls_when_either_lock_changes(tmp_path):
    """The install stamp is named after a checksum of both locks: a change to either makes it stale."""
    for name in ("Makefile", "requirements.lock", "requirements-dev.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    venv = tmp_path / "venv"

    def stamp() -> str:
        (match,) = re.findall(
            rf"touch ({re.escape(str(venv))}/\.installed-\S+)", make_dry_run("install", tmp_path, VENV=venv)
        )
        return match

    first = stamp()
    Path(first).parent.mkdir(parents=True)
    Path(first).touch()
    assert "Nothing to be done for 'install'" in make_dry_run("install", tmp_path, VENV=venv)
    for name in ("requirements.lock", "requirements-dev.lock"):
        with open(tmp_path / name, "a") as lock:
            lock.write("# changed\n")
        changed = stamp()
        assert changed != first, name
        first = changed


def test_make_lock_compiles_the_runtime_lock_then_the_development_lock_constrained_to_it(tmp_path):
    commands = [line for line in make_dry_run("lock", VENV=tmp_path / "venv").splitlines() if "pip-compile" in line]
    assert len(commands) == 2, commands
    runtime, development = commands
    for command in commands:
        assert "--generate-hashes" in command and command.endswith("pyproject.toml")
    assert "--output-file requirements.lock" in runtime and "--extra" not in runtime
    assert "--extra dev --constraint requirements.lock --output-file requirements-dev.lock" in development


def test_ci_runs_the_vulnerability_audit():
    assert re.search(r"^make audit$", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)
    assert "audit_dependencies.py requirements.lock requirements-dev.lock" in make_dry_run("audit", VENV=ROOT / ".venv")


# --- the vulnerability audit, against an index served here ---------------------------------------------------------

ADVISORY = {
    "id": "PYSEC-2026-1",
    "aliases": ["CVE-2026-0001", "GHSA-aaaa-bbbb-cccc"],
    "summary": "Remote code execution through a crafted header",
    "details": "Long text.",
    "fixed_in": ["1.0.1"],
    "link": "https://osv.dev/vulnerability/PYSEC-2026-1",
    "withdrawn": None,
}
WITHDRAWN = {**ADVISORY, "id": "PYSEC-2026-2", "withdrawn": "2026-02-01T00:00:00Z"}


@contextmanager
def fake_index(pages: dict[str, tuple[int, object]]):
    """An index answering GET path with (status, JSON body) from pages, 404 for any other path."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = pages.get(self.path, (404, {"message": "Not Found"}))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/pypi"
    finally:
        server.shutdown()
        server.server_close()


def release(name, version, vulnerabilities):
    return (200, {"info": {"name": name, "version": version}, "vulnerabilities": vulnerabilities})


@pytest.fixture
def lock(tmp_path):
    """A lock in pip-compile's format, with hashes, comments and a marker."""
    path = tmp_path / "requirements.lock"
    path.write_text(
        "#\n# made by pip-compile\n#\n"
        "Alpha_Pkg==1.0 \\\n    --hash=sha256:00aa \\\n    --hash=sha256:11bb\n    # via nextalerts (pyproject.toml)\n"
        'beta==2.5 ; python_version >= "3.11" \\\n    --hash=sha256:22cc\n    # via alpha-pkg\n'
    )
    return path


def audit(lock_path, index_url, **environment) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", **environment}
    return subprocess.run(
        [sys.executable, str(AUDIT), "--index-url", index_url, "--timeout", "10", str(lock_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_audit_fails_and_names_a_known_vulnerability_of_a_pinned_release(lock):
    pages = {
        "/pypi/alpha-pkg/1.0/json": release("alpha-pkg", "1.0", [ADVISORY]),
        "/pypi/beta/2.5/json": release("beta", "2.5", []),
    }
    with fake_index(pages) as url:
        result = audit(lock, url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "VULNERABLE alpha-pkg==1.0: PYSEC-2026-1 (CVE-2026-0001, GHSA-aaaa-bbbb-cccc), fixed in: 1.0.1; "
        "Remote code execution through a crafted header https://osv.dev/vulnerability/PYSEC-2026-1"
    ) in result.stdout
    assert "audit: 2 of 2 locked versions checked" in result.stdout
    assert "1 with known vulnerabilities" in result.stdout


def test_audit_passes_when_every_pinned_release_was_checked_and_has_no_current_advisory(lock):
    pages = {
        "/pypi/alpha-pkg/1.0/json": release("alpha-pkg", "1.0", [WITHDRAWN]),
        "/pypi/beta/2.5/json": release("beta", "2.5", []),
    }
    with fake_index(pages) as url:
        result = audit(lock, url, AUDIT_STRICT="true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"audit: 2 of 2 locked versions checked against the advisories of {url}: no known vulnerability"
    ]


def test_audit_reads_the_project_advisories_for_a_pin_that_is_the_latest_release(lock):
    """An index without per-release pages (as here) still gives the advisories of each project's latest release."""
    pages = {
        "/pypi/alpha-pkg/json": release("alpha-pkg", "1.0", [ADVISORY]),
        "/pypi/beta/json": release("beta", "2.5", []),
    }
    with fake_index(pages) as url:
        result = audit(lock, url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "VULNERABLE alpha-pkg==1.0: PYSEC-2026-1" in result.stdout
    assert "could not audit" not in result.stdout


def test_audit_says_which_pins_it_could_not_check_and_fails_on_them_only_when_strict(lock):
    pages = {
        # Advisories for the latest release only, which is not the pinned one: they say nothing about 1.0.
        "/pypi/alpha-pkg/json": release("alpha-pkg", "3.0", []),
        # A release page without advisory data.
        "/pypi/beta/2.5/json": (200, {"info": {"name": "beta", "version": "2.5"}}),
    }
    with fake_index(pages) as url:
        lenient = audit(lock, url)
        strict = audit(lock, url, AUDIT_STRICT="true")
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    assert strict.returncode == 1, strict.stdout + strict.stderr
    lines = lenient.stdout.splitlines()
    assert (
        "could not audit alpha-pkg==1.0: the index gives advisories only for the latest release (3.0), not for this one"
        in lines
    )
    assert "could not audit beta==2.5: the index's release data carries no advisories" in lines
    assert f"audit: 0 of 2 locked versions checked against the advisories of {url}: no known vulnerability" in lines
    assert lines[-1] == (
        "could not audit: 2 of 2 locked versions (listed above), not failing for it (set AUDIT_STRICT=true to fail)"
    )
    assert strict.stdout.splitlines()[-1] == "could not audit: 2 of 2 locked versions (listed above), failing (strict)"


def test_audit_of_a_project_the_index_does_not_know_is_not_a_pass(lock):
    with fake_index({"/pypi/beta/2.5/json": release("beta", "2.5", [])}) as url:
        result = audit(lock, url)
    assert "could not audit alpha-pkg==1.0: the index does not know this project" in result.stdout
    assert "audit: 1 of 2 locked versions checked" in result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("answer", ["refused", "503"])
def test_audit_says_plainly_that_it_could_not_audit_when_the_source_does_not_answer(lock, answer):
    if answer == "refused":
        result = audit(lock, f"http://127.0.0.1:{free_port()}/pypi")
        strict = audit(lock, f"http://127.0.0.1:{free_port()}/pypi", AUDIT_STRICT="true")
    else:
        pages = {path: (503, {}) for path in ("/pypi/alpha-pkg/1.0/json", "/pypi/beta/2.5/json")}
        with fake_index(pages) as url:
            result = audit(lock, url)
            strict = audit(lock, url, AUDIT_STRICT="true")
    assert result.returncode == 0 and strict.returncode == 1, result.stdout + strict.stdout
    (line,) = result.stdout.splitlines()
    assert line.startswith("could not audit: the advisory source did not answer (")
    assert line.endswith("); nothing was checked")
    assert "no known vulnerability" not in result.stdout
