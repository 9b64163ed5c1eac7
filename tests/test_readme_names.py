"""The README's table of config names and Python names matches the registry, row for row."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from pipeline import registry

README = Path(__file__).resolve().parents[1] / "README.md"
ROW = re.compile(r"^\| `([a-z0-9-]+)` \| (\w+) \| `from (\w+) import (\w+)` \|$")


def readme_rows() -> list[tuple[str, str, str, str]]:
    return [m.groups() for line in README.read_text().splitlines() if (m := ROW.match(line))]


def test_every_row_names_the_registered_class_and_it_imports_from_there():
    rows = readme_rows()
    assert rows, "no table rows found in README.md"
    for name, kind, package, class_name in rows:
        registered = registry.lookup(kind, name)
        assert registered.__name__ == class_name, (name, kind)
        assert getattr(importlib.import_module(package), class_name) is registered


def test_every_registered_component_has_a_row():
    registry.load_plugins()
    listed = {(kind, name) for name, kind, _, _ in readme_rows()}
    for kind in ("stage", "represent", "task", "reader", "evaluator"):
        for name in registry.names(kind):
            module = registry.lookup(kind, name).__module__
            if module.split(".")[0] in ("components", "corpora"):  # not a test's own component
                assert (kind, name) in listed, f"README lacks a row for {kind} {name!r}"
