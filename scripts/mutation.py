"""Run mutmut on one target module at a time (``make mutation MUTATE=...``).

Each target gets its own work directory ``var/mutation/<target>/`` holding
symlinks to the code and a ``pyproject.toml`` whose ``[tool.mutmut]`` is the
repository's with ``only_mutate`` and the test selection narrowed to that
target (from ``[tool.marquee.mutation.targets]``).  So each run mutates one
module, collects coverage stats over only the tests relevant to it, and keeps
its own cache: re-running one target never invalidates another's results.

Usage: python scripts/mutation.py [--max-children N] [TARGET ...]
       (no TARGET: every target in the table, one after another)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINKED = ("marquee", "tests", "conftest.py", "manage.py")


def _toml_value(value) -> str:
    # Strings, booleans, numbers and lists of them: JSON spells them as TOML does.
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _write_config(workdir: Path, base: dict, target: str, spec: dict) -> None:
    mutmut = dict(base["tool"]["mutmut"])
    mutmut["only_mutate"] = [f"{target.rstrip('/')}/*" if not target.endswith(".py") else target]
    mutmut["pytest_add_cli_args_test_selection"] = spec["tests"]
    if spec.get("migrations"):
        # Tests of this target need rows that migrations seed (e.g. jurisdictions).
        mutmut["pytest_add_cli_args"] = [a for a in mutmut["pytest_add_cli_args"] if a != "--no-migrations"]
    pytest = base["tool"]["pytest"]["ini_options"]
    lines = ["[tool.mutmut]"] + [f"{k} = {_toml_value(v)}" for k, v in mutmut.items()]
    lines += ["", "[tool.pytest.ini_options]"] + [f"{k} = {_toml_value(v)}" for k, v in pytest.items()]
    text = "\n".join(lines) + "\n"
    path = workdir / "pyproject.toml"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _spec(value) -> dict:
    # A target is either a list of tests or {tests = [...], migrations = true}.
    return {"tests": value} if isinstance(value, list) else value


def _prepare(target: str, spec: dict, base: dict) -> Path:
    workdir = ROOT / "var" / "mutation" / target.strip("/").replace("/", "_").removesuffix(".py")
    workdir.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = workdir / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name)
    _write_config(workdir, base, target, spec)
    return workdir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*")
    parser.add_argument("--max-children", type=int, default=1)
    args = parser.parse_args()

    base = tomllib.loads((ROOT / "pyproject.toml").read_text())
    table = base["tool"]["marquee"]["mutation"]["targets"]
    targets = args.targets or list(table)
    unknown = [t for t in targets if t.rstrip("/") not in table]
    if unknown:
        print(f"unknown mutation target(s): {unknown}; known: {sorted(table)}", file=sys.stderr)
        return 2
    mutmut = str(Path(sys.executable).parent / "mutmut")
    # Mutation runs use the embedded set-up: SQLite in memory, in-memory layers.
    env = {**os.environ, "DATABASE_URL": "", "REDIS_URL": ""}
    failed = []
    for target in targets:
        target = target.rstrip("/")
        spec = _spec(table[target])
        workdir = _prepare(target, spec, base)
        print(f"== mutmut: {target} (tests: {' '.join(spec['tests'])}) in {workdir.relative_to(ROOT)} ==", flush=True)
        run = subprocess.run([mutmut, "run", "--max-children", str(args.max_children)], cwd=workdir, env=env)
        subprocess.run([mutmut, "results"], cwd=workdir, env=env)
        if run.returncode:
            failed.append(target)
    if failed:
        print(f"mutmut failed for: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
