"""The house holds: one installed name, absolute imports, and lazy imports that say why.

The layers themselves (flows on spiders and publish, both on models, no cycles) are import-linter
contracts in pyproject.toml, run by `make test`.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("flows", "spiders", "models", "publish")
OURS = ("regiofeed", *FOLDERS)


def _modules() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py")
                  if "sites" not in p.relative_to(ROOT).parts)


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module]
    return []


def test_every_import_of_our_modules_is_absolute_from_regiofeed() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
        for path in [*_modules(), *ROOT.glob("tests/*.py"), *ROOT.glob("bench/*.py")]
        for node in ast.walk(ast.parse(path.read_text()))
        for name in _imported(node)
        if name.split(".")[0] in FOLDERS
    ] + [
        f"{path.relative_to(ROOT)}:{node.lineno} imports relatively"
        for path in _modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.level
    ]
    assert bare == []


def test_an_import_inside_a_function_says_why() -> None:
    """Lazy imports only where they buy something (Scrapy only where a crawl runs, the CLI's
    start-up, an optional extra), each with its reason in a comment beside or above it."""
    silent = []
    for path in _modules():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        functions = [n for n in ast.walk(tree)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for function in functions:
            body_imports = [n for stmt in function.body for n in ast.walk(stmt)
                            if isinstance(n, ast.Import | ast.ImportFrom)]
            for node in body_imports:
                here = lines[node.lineno - 1]
                # A comment on the line, or on the lines just above a group of imports.
                above = node.lineno - 2
                while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
                    above -= 1
                if "#" not in here and not lines[above].strip().startswith("#"):
                    silent.append(f"{path.relative_to(ROOT)}:{node.lineno} {here.strip()}")
    assert silent == []


def _shadowing_tree(folder: Path) -> Path:
    """A working directory full of names a user might have: each one breaks on import."""
    for name in FOLDERS:
        (folder / name).mkdir()
        (folder / name / "__init__.py").write_text(f"raise SystemExit('shadowed by {name}/')\n")
    (folder / "models.py").write_text("raise SystemExit('shadowed by models.py')\n")
    return folder


def test_nothing_in_the_working_directory_shadows_regiofeed(tmp_path: Path) -> None:
    cwd = _shadowing_tree(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # like an installed `spiders` from PyPI
    done = subprocess.run([sys.executable, "-m", "regiofeed", "sources", "--help"], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "check" in done.stdout


@pytest.mark.slow
def test_the_wheel_installs_one_name_and_runs_beside_a_foreign_spiders(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(ROOT),
                    "-w", str(wheels)], check=True, capture_output=True, timeout=600)
    wheel = next(wheels.glob("regiofeed-*.whl"))
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"regiofeed", wheel.name.split("-py")[0] + ".dist-info"}

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=600)
    _shadowing_tree(target / "..")  # a foreign `spiders`, `models`, … on the path as well
    env = {**os.environ, "PYTHONPATH": f"{target}{os.pathsep}{tmp_path}"}
    done = subprocess.run(
        [sys.executable, "-c", "import regiofeed.flows.cli as c, regiofeed.publish.html;"
         " print(c.__file__)"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(target))
