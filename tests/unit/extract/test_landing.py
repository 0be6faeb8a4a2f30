"""Landing keeps payloads unchanged, addressed by entity, province and interval, with checksums."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tthc_warehouse.extract import landing
from tthc_warehouse.extract.base import SourceError

pytestmark = pytest.mark.unit
START, END = dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)


def test_same_payload_twice_is_recognised_and_a_change_is_kept_apart(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TTHC_LANDING_DIR", str(tmp_path / "landing"))
    source = tmp_path / "ho-so-20240101.csv"
    source.write_bytes(b"\xef\xbb\xbfM\xc3\xa3 h\xe1\xbb\x93 s\xc6\xa1\nHD-1\n")
    target = landing.interval_folder("dossier", "30", START, END)
    first = landing.land([source], target, "csv:test")
    second = landing.land([source], target, "csv:test")
    assert (first.reused, second.reused) == (False, True)
    assert first.checksum == second.checksum and first.folder == second.folder
    assert first.paths()[0].read_bytes() == source.read_bytes()  # byte for byte
    manifest = json.loads((target / first.checksum[:16] / "manifest.json").read_text())
    assert manifest["files"][0]["sha256"] == landing.file_sha256(source)
    source.write_bytes(b"changed\n")
    third = landing.land([source], target, "csv:test")
    assert not third.reused and third.folder != first.folder
    assert first.paths()[0].read_bytes() != b"changed\n"  # the earlier payload is still replayable
    carried = first.to_dict()  # what XCom carries: a count; the names come back from the manifest
    assert carried["files"] == 1 and landing.Landed.from_dict(carried) == first


def test_a_missing_file_names_what_was_expected(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TTHC_LANDING_DIR", str(tmp_path / "landing"))
    target = landing.interval_folder("dossier", "30", START, END)
    with pytest.raises(SourceError, match=r"ho-so-20240101\.csv"):
        landing.land([tmp_path / "ho-so-20240101.csv"], target, "csv:test")


def test_landed_files_and_folders_are_owner_only(tmp_path, monkeypatch) -> None:
    """Issue 10, defect 6: landed dossiers were world-readable."""
    import os
    import stat

    monkeypatch.setenv("TTHC_LANDING_DIR", str(tmp_path / "landing"))
    old = os.umask(0o022)
    try:
        source = tmp_path / "in.csv"
        source.write_text("a\n1\n")
        target = landing.interval_folder("dossier", "01", dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2))
        landed = landing.land([source], target, "csv:test")
    finally:
        os.umask(old)
    folder = Path(landed.folder)
    for path in (folder / "in.csv", folder / "manifest.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in (folder, target, landing.landing_dir()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
