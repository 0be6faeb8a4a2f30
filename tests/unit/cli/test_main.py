"""The CLI: one entry point, and `--help` on every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tthc_warehouse.cli.main import build_parser

pytestmark = pytest.mark.unit
TTHC = str(Path(sys.executable).with_name("tthc"))


def commands() -> list[str]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    return sorted(subparsers.choices)


def test_the_expected_commands_exist() -> None:
    expected = {"migrate", "simulate", "run", "backfill", "status", "demo", "psql", "warehouse-url",
                "report", "up"}
    assert expected <= set(commands())


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help(command: str) -> None:
    result = subprocess.run([TTHC, command, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"usage: tthc {command}" in result.stdout


def test_unknown_arguments_are_refused() -> None:
    result = subprocess.run([TTHC, "status", "--bogus"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "unrecognized arguments: --bogus" in result.stderr
