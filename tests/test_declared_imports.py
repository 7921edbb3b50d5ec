"""Every package the product's own code imports is declared in pyproject.toml: runtime code by the runtime
dependencies, tests and benchmarks by those or the dev extra. A package that only arrives as another one's dependency
can disappear with that one's next release."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ("nextalerts", "accounts", "subscribers", "consent", "messaging", "campaigns", "tracking", "privacy")
DEVELOPMENT = ("tests", "benchmarks", ".ci")
OURS = {*RUNTIME, "tests", "benchmarks", "manage"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(*groups: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for group in groups:
        requirements += project["optional-dependencies"][group]
    return {_canonical(re.split(r"[\[=<>!~; ]", requirement, maxsplit=1)[0]) for requirement in requirements}


def _imported(folders) -> dict[str, str]:
    """Top-level module imported -> one file that imports it (absolute imports only)."""
    found = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def _undeclared(folders, declared) -> list[str]:
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for module, where in sorted(_imported(folders).items()):
        if module in sys.stdlib_module_names or module in OURS:
            continue
        providers = {_canonical(d) for d in distributions.get(module, [])}
        if not providers & declared:
            missing.append(f"{module} (imported in {where}; installed by {sorted(providers) or 'nothing'})")
    return missing


def test_runtime_code_imports_only_runtime_dependencies():
    assert _undeclared(RUNTIME, _declared()) == []


def test_tests_and_benchmarks_import_only_declared_packages():
    assert _undeclared(DEVELOPMENT, _declared("dev")) == []
