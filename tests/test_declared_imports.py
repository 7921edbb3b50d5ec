"""Every package our code imports is declared in pyproject.toml: the product's code (every folder but the
development ones) by the runtime dependencies, the development code (the tests, the benchmarks, CI's scripts and the
development tools) by those or the dev extra. A package that only arrives as another one's dependency can disappear
with that one's next release. And the product never imports the development tools, which the production image leaves
out, except through the two settings modules that install them."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT = ("tests", "benchmarks", ".ci", "devtools")
# The product: manage.py and every top-level package that is not development code.
RUNTIME = (
    "manage.py",
    *sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name not in DEVELOPMENT),
)
OURS = {path.removesuffix(".py") for path in RUNTIME} | {name for name in DEVELOPMENT if not name.startswith(".")}
# The settings that install the development tools (local development and the test suite), and so import them.
DEVTOOLS_SETTINGS = {"nextalerts/settings/local.py", "nextalerts/settings/test.py"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(*groups: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for group in groups:
        requirements += project["optional-dependencies"][group]
    return {_canonical(re.split(r"[\[=<>!~; ]", requirement, maxsplit=1)[0]) for requirement in requirements}


def _files(folders):
    for folder in folders:
        path = ROOT / folder
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def _imports(folders):
    """(top-level module imported, the file that imports it), absolute imports only."""
    for path in _files(folders):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                yield name.split(".")[0], str(path.relative_to(ROOT))


def _undeclared(folders, declared) -> list[str]:
    distributions = importlib.metadata.packages_distributions()
    found = {}
    for module, where in _imports(folders):
        found.setdefault(module, where)
    missing = []
    for module, where in sorted(found.items()):
        if module in sys.stdlib_module_names or module in OURS:
            continue
        providers = {_canonical(d) for d in distributions.get(module, [])}
        if not providers & declared:
            missing.append(f"{module} (imported in {where}; installed by {sorted(providers) or 'nothing'})")
    return missing


def test_the_product_and_the_development_code_are_both_found():
    # Guards the folder lists: a test over no file would pass vacuously.
    assert {"nextalerts", "accounts", "consent", "campaigns", "privacy"} <= set(RUNTIME)
    assert all(any(_files([folder])) for folder in DEVELOPMENT)


def test_runtime_code_imports_only_runtime_dependencies():
    assert _undeclared(RUNTIME, _declared()) == []


def test_development_code_imports_only_declared_packages():
    assert _undeclared(DEVELOPMENT, _declared("dev")) == []


def test_the_product_imports_the_development_tools_only_from_the_settings_that_install_them():
    importers = {where for module, where in _imports(RUNTIME) if module == "devtools"}
    assert importers <= DEVTOOLS_SETTINGS, sorted(importers - DEVTOOLS_SETTINGS)
    assert importers == DEVTOOLS_SETTINGS  # guards the walk
