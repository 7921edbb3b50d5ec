"""Every module of the product imports: a command or page no test reaches still fails here when a move or a rename
left it pointing at a name that is gone."""

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("nextalerts", "accounts", "subscribers", "consent", "messaging", "campaigns", "tracking", "privacy", "web")


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts or parts[:2] == ("nextalerts", "settings"):
                continue  # settings modules are loaded by Django, each in a process of its own (test_settings.py)
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("module", list(_modules()))
def test_the_module_imports(module):
    importlib.import_module(module)
