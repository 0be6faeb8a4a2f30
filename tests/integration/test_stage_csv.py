"""stage_files on an awkward CSV file: the good rows are staged typed, each bad record or value is
quarantined naming its file, line and column with the raw values, and nothing else is lost."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from tthc_warehouse.contract import DOSSIER
from tthc_warehouse.extract.feeds import EntityFeed
from tthc_warehouse.extract.sources import FileSource
from tthc_warehouse.load import staging

pytestmark = pytest.mark.integration

HEADER = "dossier_code,procedure_code,procedure_name,province_code,received_at,status,source_updated_at"
LINES = [
    HEADER,                                                                      # 1
    "A-1,1.001,Khai sinh,30,01/03/2024 07:30,10,01/03/2024 08:00",               # 2 staged
    "A-2,1.001,Khai sinh,30,01/03/2024 07:30",                                   # 3 too few fields
    "",                                                                          # 4 blank: skipped
    'A-3,1.001,"Đăng ký\nkết hôn",30,5/3/2024 7:05,Đã tiếp nhận,05/03/2024 08:00',  # 5-6 staged
    "A-4,1.001,Khai sinh,30,31/02/2024 07:30,10,01/03/2024 08:00",               # 7 bad date
    "A-5,1.001,a\x00b,30,01/03/2024 07:30,10,01/03/2024 08:00",                  # 8 NUL byte
    "A-6,1.001,  Khai   sinh ,30,,4,2024-03-06T09:00:00",                        # 9 staged
]


def test_good_rows_are_staged_and_bad_ones_quarantined_by_file_line_and_column(db, tmp_path) -> None:
    path = tmp_path / "ho-so-20240301.csv"
    path.write_bytes("\n".join(LINES).encode() + b"\n")
    source = FileSource(EntityFeed("dossier", "csv", "ho-so-{day:%Y%m%d}.csv"), "30", tmp_path)
    batch, table = f"test:{uuid.uuid4().hex[:8]}", f"stage_{uuid.uuid4().hex[:8]}"
    try:
        result = staging.stage_files(db, batch_id=batch, table=table, entity=DOSSIER, source=source,
                                     paths=[path], start=dt.datetime(2024, 3, 1), end=dt.datetime(2024, 4, 1))
        staged = db.execute(f"select _row, _file, dossier_code, procedure_name, received_at, status, "
                            f"source_updated_at from staging.{table} order by _row").fetchall()
        quarantined = db.execute(
            "select source_file, row_number, column_name, reason, raw from quarantine.rejected_row "
            "where batch_id = %s order by row_number", (batch,)).fetchall()
    finally:
        staging.drop_staging_table(db, table)
        db.execute("delete from quarantine.rejected_row where batch_id = %s", (batch,))
        db.commit()
    assert (result.rows_read, result.rows_staged, result.rows_rejected) == (6, 3, 3)
    assert staged == [
        (2, path.name, "A-1", "Khai sinh", dt.datetime(2024, 3, 1, 7, 30), 10, dt.datetime(2024, 3, 1, 8)),
        (5, path.name, "A-3", "Đăng ký\nkết hôn", dt.datetime(2024, 3, 5, 7, 5), 2,
         dt.datetime(2024, 3, 5, 8)),
        (9, path.name, "A-6", "Khai   sinh", None, 4, dt.datetime(2024, 3, 6, 9)),
    ]
    assert [(f, n, c) for f, n, c, _, _ in quarantined] == [
        (path.name, 3, "(record)"), (path.name, 7, "received_at"), (path.name, 8, "procedure_name")]
    reasons = [r for _, _, _, r, _ in quarantined]
    assert reasons[0].startswith(f"{path.name} row 3 column (record): malformed record "
                                 "('expected 7 fields, saw 5")
    assert reasons[1] == (f"{path.name} row 7 column received_at: not a date (dd/MM/yyyy [HH:mm]) "
                          "('31/02/2024 07:30')")
    raw = quarantined[2][4] if isinstance(quarantined[2][4], dict) else json.loads(quarantined[2][4])
    assert raw["dossier_code"] == "A-5" and raw["procedure_name"] == "a\\u0000b"
