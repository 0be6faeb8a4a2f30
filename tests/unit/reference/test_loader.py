"""Reference rows: provinces across the 2025 reorganisation, working days, targets."""

from __future__ import annotations

import unicodedata
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta

import pytest

from tthc_warehouse.reference import loader as ref

pytestmark = pytest.mark.unit

# DOMAIN §5: (name in 2024, code, unit from 1 Jul 2025, new code)
DOMAIN_TABLE = [
    ("Bình Định", "52", "Gia Lai", "52"),
    ("Hải Dương", "30", "Hải Phòng", "31"),
    ("Hà Giang", "02", "Tuyên Quang", "08"),
    ("Cà Mau", "96", "Cà Mau", "96"),
    ("Điện Biên", "11", "Điện Biên", "11"),
    ("Quảng Bình", "44", "Quảng Trị", "44"),
    ("Quảng Nam", "49", "Đà Nẵng", "48"),
    ("Nghệ An", "40", "Nghệ An", "40"),
    ("Bắc Ninh", "27", "Bắc Ninh", "24"),
    ("Thừa Thiên Huế", "46", "Huế", "46"),
]
BEFORE = date(2024, 6, 30)
LAST_OLD_DAY = date(2025, 6, 30)


@pytest.fixture(scope="module")
def rows() -> list[ref.ProvinceRow]:
    return ref.province_rows()


@pytest.fixture(scope="module")
def calendar() -> dict[date, ref.WorkingDayRow]:
    return {row["day"]: row for row in ref.working_day_rows(date(2024, 1, 1), date(2024, 12, 31))}


def _in_force(rows: list[ref.ProvinceRow], on: date) -> list[ref.ProvinceRow]:
    codes = {row["province_code"] for row in rows}
    return [row for code in codes if (row := ref.province_as_of(rows, code, on))]


@pytest.mark.parametrize(("old_name", "old_code", "new_name", "new_code"), DOMAIN_TABLE)
def test_domain_provinces(rows, old_name, old_code, new_name, new_code):
    old = ref.province_as_of(rows, old_code, BEFORE)
    assert old is not None and old["name"] == old_name
    assert ref.successor_on(rows, old_code, BEFORE, ref.MERGER_2025) == new_code
    new = ref.province_as_of(rows, new_code, ref.MERGER_2025)
    assert new is not None and new["name"] == new_name and new["valid_to"] is None


def test_counts_around_the_merger(rows):
    assert len(_in_force(rows, date(2024, 12, 31))) == 63
    assert len(_in_force(rows, LAST_OLD_DAY)) == 63
    assert len(_in_force(rows, ref.MERGER_2025)) == 34
    assert len(_in_force(rows, date(2026, 12, 31))) == 34
    assert _in_force(rows, date(2008, 7, 31)) == []


def test_no_code_valid_twice_on_one_date(rows):
    boundaries = {row["valid_from"] for row in rows} | {row["valid_to"] for row in rows}
    days = {d + timedelta(days=shift) for d in boundaries if d for shift in (-1, 0)}
    for day in days:
        hits = Counter(
            row["province_code"]
            for row in rows
            if row["valid_from"] <= day and (row["valid_to"] is None or day < row["valid_to"])
        )
        assert max(hits.values(), default=0) <= 1, day


def test_rows_are_well_formed(rows):
    assert Counter((r["province_code"], r["valid_from"]) for r in rows).most_common(1)[0][1] == 1
    current = {r["province_code"] for r in rows if r["valid_to"] is None}
    for row in rows:
        code, name = row["province_code"], row["name"]
        assert len(code) == 2 and code.isdigit()
        assert unicodedata.is_normalized("NFC", name) and not name.startswith(("Tỉnh", "Thành phố"))
        assert row["valid_to"] is None or row["valid_to"] > row["valid_from"]
        if row["valid_to"] == ref.MERGER_2025:
            assert row["successor_code"] in current


def test_hue_rows(rows):
    hue = [r for r in rows if r["province_code"] == "46"]
    assert [(r["name"], r["valid_from"], r["valid_to"], r["successor_code"]) for r in hue] == [
        ("Thừa Thiên Huế", date(2008, 8, 1), date(2025, 1, 1), "46"),
        ("Huế", date(2025, 1, 1), date(2025, 7, 1), "46"),
        ("Huế", date(2025, 7, 1), None, None),
    ]
    assert ref.successor_on(rows, "46", BEFORE, date(2025, 3, 1)) == "46"


def test_successor_on_before_merger_and_unknown(rows):
    assert ref.successor_on(rows, "30", BEFORE, LAST_OLD_DAY) == "30"
    assert ref.successor_on(rows, "31", ref.MERGER_2025, date(2026, 1, 1)) == "31"
    with pytest.raises(ValueError):
        ref.successor_on(rows, "30", ref.MERGER_2025, date(2026, 1, 1))  # closed code
    with pytest.raises(ValueError):
        ref.successor_on(rows, "99", BEFORE, ref.MERGER_2025)


def test_pick_successor_and_clean_name():
    assert ref.pick_successor(82, [80, 82]) == 82  # Tiền Giang: a few wards went to Tây Ninh
    assert ref.pick_successor(30, [31]) == 31
    with pytest.raises(ValueError):
        ref.pick_successor(1, [2, 3])
    assert ref.clean_name(unicodedata.normalize("NFD", "Tỉnh Hải Dương ")) == "Hải Dương"
    assert ref.clean_name("Thành phố Huế") == "Huế"


def test_the_63_old_provinces_and_their_2025_successors_from_the_package():
    """DOMAIN.md §5, the ten provinces of the conference: code at receipt -> unit since 1 Jul 2025."""
    legacy = {code: (name, successor) for code, name, successor in ref.legacy_provinces()}
    assert len(legacy) == 63
    expected = {"52": "52", "30": "31", "02": "08", "96": "96", "11": "11", "44": "44", "49": "48",
                "40": "40", "27": "24", "46": "46"}
    assert {code: legacy[code][1] for code in expected} == expected
    assert legacy["30"][0] == "Hải Dương" and legacy["02"][0] == "Hà Giang"


def test_public_holidays_and_weekends(calendar):
    national_day = calendar[date(2024, 9, 2)]
    assert not national_day["is_working_day"] and "Quốc khánh" in national_day["holiday_name"]
    tet = calendar[date(2024, 2, 10)]
    assert not tet["is_working_day"] and "Tết Nguyên Đán" in tet["holiday_name"]
    monday = calendar[date(2024, 3, 4)]
    assert monday["is_working_day"] and monday["holiday_name"] is None
    assert not calendar[date(2024, 3, 2)]["is_working_day"]  # Saturday
    assert not calendar[date(2024, 3, 3)]["is_working_day"]  # Sunday
    assert calendar[date(2024, 5, 4)]["is_working_day"]  # Saturday worked for the 29 Apr bridge
    assert len(calendar) == 366


def test_working_days_between_over_a_holiday_week(calendar):
    working = ref.working_day_set(calendar.values())
    # Fri 30 Aug -> Fri 6 Sep 2024: Mon 2 and Tue 3 Sep are National Day, so Wed-Fri count.
    assert ref.working_days_between(working, date(2024, 8, 30), date(2024, 9, 6)) == 3
    assert ref.working_days_between(working, date(2024, 9, 6), date(2024, 8, 30)) == -3
    assert ref.working_days_between(working, date(2024, 3, 4), date(2024, 3, 4)) == 0
    assert ref.working_days_between(working, date(2024, 3, 1), date(2024, 3, 4)) == 1


def test_working_day_rows_rejects_reversed_range():
    with pytest.raises(ValueError):
        ref.working_day_rows(date(2024, 1, 2), date(2024, 1, 1))


def test_targets():
    targets = {row["indicator"]: row for row in ref.target_rows()}
    assert {name: row["value_pct"] for name, row in targets.items()} == {
        "digitization_766": 80,
        "online_submission": 50,
        "integrated_payment_procedures": 80,
        "satisfaction": 90,
    }
    for row in targets.values():
        assert row["valid_from"] == date(2024, 1, 1) and row["valid_to"] is None
        assert row["status"] in ("verified", "unverified") and row["source"]
    assert targets["digitization_766"]["status"] == "unverified"


def test_reference_tables_match_columns_and_keys():
    tables = ref.reference_tables()
    assert tables == ref.reference_tables()  # re-running gives identical tables
    keys = {"ref.province": ("province_code", "valid_from"), "ref.working_day": ("day",)}
    keys["ref.target"] = ("indicator", "valid_from")
    keys["ref.index766_scoring_rule"] = ("indicator_group", "indicator_code")
    keys["ref.portal_unit"] = ("province_code", "unit_code")
    for table, table_rows in tables.items():
        assert all(tuple(row) == ref.TABLE_COLUMNS[table] for row in table_rows)
        pk = Counter(tuple(row[k] for k in keys[table]) for row in table_rows)
        assert pk.most_common(1)[0][1] == 1, table
    days = [row["day"] for row in tables["ref.working_day"]]
    assert (days[0], days[-1], len(days)) == (ref.CALENDAR_START, ref.CALENDAR_END, 1461)


class _FakeCursor:
    def __init__(self, log: list) -> None:
        self.log = log

    def __enter__(self) -> _FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, statement, params=None) -> None:
        self.log.append(("execute", statement.as_string(None), params))

    def executemany(self, statement, params_seq) -> None:
        self.log.append(("executemany", statement.as_string(None), list(params_seq)))


class _FakeConnection:
    def __init__(self) -> None:
        self.log: list = []

    @contextmanager
    def transaction(self):
        self.log.append(("begin", None, None))
        yield
        self.log.append(("commit", None, None))

    def cursor(self) -> _FakeCursor:
        return _FakeCursor(self.log)


def test_load_reference_deletes_then_inserts_with_bound_parameters():
    conn = _FakeConnection()
    counts = ref.load_reference(conn)  # type: ignore[arg-type]
    assert counts == {"ref.province": 98, "ref.working_day": 1461, "ref.target": 4,
                      "ref.index766_scoring_rule": 27, "ref.portal_unit": 173}
    kinds = [kind for kind, _, _ in conn.log]
    assert kinds[0] == "begin" and kinds[-1] == "commit" and kinds.count("begin") == 1
    assert kinds[1:-1] == ["execute", "executemany"] * 5
    inserts = [(sql, params) for kind, sql, params in conn.log if kind == "executemany"]
    for table, (statement, params) in zip(counts, inserts, strict=True):
        schema, name = table.split(".")
        assert statement.startswith(f'insert into "{schema}"."{name}"')
        assert "%(" in statement and "2024" not in statement  # values are bound, never inlined
        assert len(params) == counts[table]
