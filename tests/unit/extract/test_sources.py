"""``source_for`` picks one Source per feed format, and each reads what it landed."""

from __future__ import annotations

import datetime as dt

import pytest

from tthc_warehouse.extract.base import ROW_COLUMN
from tthc_warehouse.extract.feeds import EntityFeed
from tthc_warehouse.extract.sources import FileSource, HttpSource, PortalSource, source_for

pytestmark = pytest.mark.unit
START, END = dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)


@pytest.mark.parametrize(("fmt", "kind"), [("csv", FileSource), ("xlsx", FileSource), ("jsonl", FileSource),
                                           ("dvcqg", PortalSource), ("http", HttpSource)])
def test_each_format_has_its_source(fmt: str, kind: type, tmp_path) -> None:
    feed = EntityFeed("dossier", fmt, path="x/{day:%Y%m%d}.csv", options={"conn_id": "c", "endpoint": "/e"})
    assert type(source_for(feed, "30", inbox=tmp_path, get_connection=lambda _: None)) is kind


def test_an_unknown_format_or_an_http_feed_without_connections_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown feed format 'xml'"):
        source_for(EntityFeed("dossier", "xml"), "30", inbox=tmp_path)
    with pytest.raises(ValueError, match="connection lookup"):
        source_for(EntityFeed("dossier", "http"), "30", inbox=tmp_path)


def test_a_file_source_lands_the_interval_files_and_reads_canonical_columns(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TTHC_LANDING_DIR", str(tmp_path / "landing"))
    folder = tmp_path / "inbox" / "30"
    folder.mkdir(parents=True)
    (folder / "20240101.jsonl").write_text(
        '{"transaction_id": "T1", "dossier_code": "D1", "province_code": "30", "amount": "1000",'
        ' "paid_at": "2024-01-01 08:00:00", "status": "success", "gateway": "national", "steps": "3",'
        ' "source_updated_at": "2024-01-01 08:00:00"}\n', encoding="utf-8")
    feed = EntityFeed("payment", "jsonl", path="{province_code}/{day:%Y%m%d}.jsonl")
    source = source_for(feed, "30", inbox=tmp_path / "inbox")
    landed = source.land(START, END, tmp_path / "landing" / "t")
    assert landed.files == ["20240101.jsonl"]
    chunk = next(source.read(landed.paths()[0], START, END))
    assert chunk.loc[0, ROW_COLUMN] == 1 and chunk.loc[0, "transaction_id"] == "T1"
