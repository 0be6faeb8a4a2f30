"""The package's layout rules: pipeline code never reaches for dev tooling, one place reads formats."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
PACKAGE = Path(__file__).resolve().parents[2] / "plugins" / "tthc_warehouse"
DEV_ONLY = ("local", "simulator", "cli")  # tooling around the pipeline, never needed by it
PIPELINE = ("extract", "load", "quality", "marts", "reference", "ops", "orchestration", "report", "db")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def _modules(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (PACKAGE / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _modules(*PIPELINE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pipeline_code_imports_no_dev_tooling(path: Path) -> None:
    banned = [m for m in _imports(path) if any(m.startswith(f"tthc_warehouse.{d}") for d in DEV_ONLY)]
    assert not banned, f"{path.relative_to(PACKAGE)} imports dev-only {banned}"


def test_every_subpackage_is_classified() -> None:
    found = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert found == set(DEV_ONLY) | set(PIPELINE)


def test_only_extract_and_the_simulator_look_at_a_feeds_format() -> None:
    """The format is decided once (``extract.sources.source_for``); nobody else branches on it."""
    outside = [p for p in PACKAGE.rglob("*.py") if p.parent.name not in ("extract", "simulator")]
    offenders = [str(p.relative_to(PACKAGE)) for p in outside if ".format ==" in p.read_text()
                 or ".format !=" in p.read_text() or ".format in" in p.read_text()]
    assert not offenders
