"""Check every version pinned in the given lock files against the vulnerability advisories the package index publishes.

The source is the PyPI JSON API, whose "vulnerabilities" come from the Python advisory database (the same data OSV
serves). PyPI itself answers for each release (/pypi/NAME/VERSION/json); an index that answers only for a project
(/pypi/NAME/json) gives the advisories of its latest release alone, so a pin older than that cannot be checked there,
and this says so for each one instead of counting it as clean. Exit status: 1 when a pinned version has a known
vulnerability, or (with AUDIT_STRICT=true or --strict) when some pin could not be checked; 0 otherwise. Standard
library only, so that it runs before anything is installed.
"""

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

DEFAULT_INDEX = "https://pypi.org/pypi"
# name==version at the start of a line; hashes and "# via" comments follow on their own lines.
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


class Unreachable(Exception):
    """The index did not answer at all (name resolution, connection, timeout)."""


@dataclass
class Result:
    name: str
    version: str
    vulnerabilities: list[dict] = field(default_factory=list)
    # Why this pin could not be checked; None when it was.
    unchecked: str | None = None


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(paths: list[str]) -> list[tuple[str, str]]:
    pins = {}
    for path in paths:
        with open(path, encoding="utf-8") as lock:
            for name, version in PIN.findall(lock.read()):
                pins[(canonical(name), version)] = None
    return sorted(pins)


def get_json(url: str, timeout: float) -> dict | None:
    """The JSON document at url; None for a 404; Unreachable when nothing answered."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise Unreachable(f"{url} answered HTTP {error.code}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise Unreachable(f"{url}: {reason}") from error
    except ValueError as error:
        raise Unreachable(f"{url} did not answer JSON") from error


def current(vulnerabilities) -> list[dict]:
    return [v for v in vulnerabilities or [] if isinstance(v, dict) and not v.get("withdrawn")]


def audit_pin(index: str, name: str, version: str, timeout: float) -> Result:
    release = get_json(f"{index}/{name}/{version}/json", timeout)
    if release is not None:
        if "vulnerabilities" not in release:
            return Result(name, version, unchecked="the index's release data carries no advisories")
        return Result(name, version, current(release["vulnerabilities"]))
    project = get_json(f"{index}/{name}/json", timeout)
    if project is None:
        return Result(name, version, unchecked="the index does not know this project")
    if "vulnerabilities" not in project:
        return Result(name, version, unchecked="the index's project data carries no advisories")
    latest = (project.get("info") or {}).get("version")
    if latest != version:
        return Result(
            name,
            version,
            unchecked=f"the index gives advisories only for the latest release ({latest}), not for this one",
        )
    return Result(name, version, current(project["vulnerabilities"]))


def describe(vulnerability: dict) -> str:
    aliases = [a for a in vulnerability.get("aliases") or [] if a != vulnerability.get("id")]
    label = vulnerability.get("id", "?") + (f" ({', '.join(aliases)})" if aliases else "")
    fixed = ", ".join(vulnerability.get("fixed_in") or []) or "no fixed release"
    summary = (vulnerability.get("summary") or vulnerability.get("details") or "").strip().splitlines()
    link = vulnerability.get("link") or ""
    return f"{label}, fixed in: {fixed}; {summary[0][:160] if summary else ''} {link}".rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("locks", nargs="+", help="lock files (name==version lines)")
    parser.add_argument("--index-url", default=os.environ.get("AUDIT_INDEX_URL", DEFAULT_INDEX))
    parser.add_argument(
        "--strict",
        action="store_true",
        default=os.environ.get("AUDIT_STRICT", "").lower() in {"1", "true", "yes"},
        help="fail when some pin could not be checked (default: AUDIT_STRICT)",
    )
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("AUDIT_TIMEOUT", "20")))
    args = parser.parse_args(argv)
    index = args.index_url.rstrip("/")

    pins = read_pins(args.locks)
    if not pins:
        print(f"could not audit: no name==version pins in {', '.join(args.locks)}")
        return 1 if args.strict else 0
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda pin: audit_pin(index, *pin, args.timeout), pins))
    except Unreachable as error:
        print(f"could not audit: the advisory source did not answer ({error}); nothing was checked")
        return 1 if args.strict else 0

    checked = [r for r in results if r.unchecked is None]
    vulnerable = [r for r in checked if r.vulnerabilities]
    unchecked = [r for r in results if r.unchecked is not None]
    for result in vulnerable:
        for vulnerability in result.vulnerabilities:
            print(f"VULNERABLE {result.name}=={result.version}: {describe(vulnerability)}")
    for result in unchecked:
        print(f"could not audit {result.name}=={result.version}: {result.unchecked}")
    print(
        f"audit: {len(checked)} of {len(results)} locked versions checked against the advisories of {index}: "
        + (f"{len(vulnerable)} with known vulnerabilities" if vulnerable else "no known vulnerability")
    )
    if unchecked:
        print(
            f"could not audit: {len(unchecked)} of {len(results)} locked versions (listed above), "
            + ("failing (strict)" if args.strict else "not failing for it (set AUDIT_STRICT=true to fail)")
        )
    if vulnerable or (unchecked and args.strict):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
