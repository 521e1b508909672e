"""Scripts outside the test suite (benchmarks, the cluster fault script, the
mutation runner) import project code inside their functions, so a module or
function that moves breaks them only when someone runs them, often on another
machine.  Every `from marquee... import name` they contain must resolve, and
every `alias.attribute` read off an imported project module must exist."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(
    path
    for pattern in ("bench/**/*.py", "deploy/**/*.py", "scripts/*.py")
    for path in ROOT.glob(pattern)
    if "/tests/" not in str(path)
)


def project_references(tree: ast.AST) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(module, name, bound alias) for each project import, and (alias, attribute)
    for each attribute read off a bound alias."""
    imports = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "marquee":
            imports += [(node.module, a.name, a.asname or a.name) for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Import):
            imports += [(a.name, "", a.asname or a.name) for a in node.names if a.name.split(".")[0] == "marquee"]
    attributes = [
        (node.value.id, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
    ]
    return imports, attributes


def unresolved(source: str) -> list[str]:
    imports, attributes = project_references(ast.parse(source))
    bound, missing = {}, []
    for module_name, name, alias in imports:
        if not name:  # `import marquee.x.y` binds the top package
            bound[alias] = importlib.import_module(alias)
            continue
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            bound[alias] = getattr(module, name)
            continue
        try:
            bound[alias] = importlib.import_module(f"{module_name}.{name}")
        except ModuleNotFoundError:
            missing.append(f"{module_name}.{name}")
    for alias, attribute in attributes:
        target = bound.get(alias)
        if isinstance(target, ModuleType) and not hasattr(target, attribute):
            missing.append(f"{alias}.{attribute} ({target.__name__})")
    return sorted(set(missing))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_project_names_used_by_scripts_exist(path):
    assert unresolved(path.read_text()) == []


def test_the_check_sees_a_stale_function_and_a_missing_name():
    """The case that broke `make cluster-faults`: the module still exists but
    no longer has the function; and a name imported from nowhere."""
    stale = "def f():\n    from marquee.chat import hub as fanout\n    fanout.publish_room_event(1, 2)\n"
    assert unresolved(stale) == ["fanout.publish_room_event (marquee.chat.hub)"]
    gone = "from marquee.lib.realtime import no_such_name\n"
    assert unresolved(gone) == ["marquee.lib.realtime.no_such_name"]
    fine = "from marquee.lib import realtime\nrealtime.publish_room_event\n"
    assert unresolved(fine) == []
