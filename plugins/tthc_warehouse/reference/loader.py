"""Reference rows: provinces across the 2025 reorganisation, the working-day calendar, targets."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, TypedDict

import holidays
import psycopg
import vietnam_provinces
from psycopg import sql

from tthc_warehouse.reference.index766_rules import Rule, rule_rows
from tthc_warehouse.reference.portal_units import COLUMNS as PORTAL_UNIT_COLUMNS
from tthc_warehouse.reference.portal_units import portal_unit_rows

BOUNDARIES_2008 = date(2008, 8, 1)  # Hà Tây joined Hà Nội: the 63-province map holds from here
HUE_RENAMED = date(2025, 1, 1)  # Thừa Thiên Huế became the centrally-run city of Huế, same code
MERGER_2025 = date(2025, 7, 1)  # 63 provinces became 34 units
HUE_CODE = "46"
HUE_OLD_NAME = "Thừa Thiên Huế"
CALENDAR_START = date(2023, 1, 1)
CALENDAR_END = date(2026, 12, 31)

# The 63 pre-2025 provinces as "code name successor". vietnam-provinces ships the legacy list and
# the old->new table (``vietnam_provinces.legacy``, ``Province.search_from_legacy``) only from
# 2026.x, which needs Python >= 3.12; on 3.11 the lock resolves 2025.10.1: the 34 new units only.
# This snapshot was generated from vietnam-provinces 2026.9.0 with the same rules as
# ``_legacy_from_package`` (prefix stripped, seat rule for the successor); the unit tests compare
# the two whenever the newer package is installed. Name of 46 here is its name on 2025-01-01.
_LEGACY_SNAPSHOT = """
01 Hà Nội 01; 02 Hà Giang 08; 04 Cao Bằng 04; 06 Bắc Kạn 19; 08 Tuyên Quang 08;
10 Lào Cai 15; 11 Điện Biên 11; 12 Lai Châu 12; 14 Sơn La 14; 15 Yên Bái 15;
17 Hoà Bình 25; 19 Thái Nguyên 19; 20 Lạng Sơn 20; 22 Quảng Ninh 22; 24 Bắc Giang 24;
25 Phú Thọ 25; 26 Vĩnh Phúc 25; 27 Bắc Ninh 24; 30 Hải Dương 31; 31 Hải Phòng 31;
33 Hưng Yên 33; 34 Thái Bình 33; 35 Hà Nam 37; 36 Nam Định 37; 37 Ninh Bình 37;
38 Thanh Hóa 38; 40 Nghệ An 40; 42 Hà Tĩnh 42; 44 Quảng Bình 44; 45 Quảng Trị 44;
46 Huế 46; 48 Đà Nẵng 48; 49 Quảng Nam 48; 51 Quảng Ngãi 51; 52 Bình Định 52;
54 Phú Yên 66; 56 Khánh Hòa 56; 58 Ninh Thuận 56; 60 Bình Thuận 68; 62 Kon Tum 51;
64 Gia Lai 52; 66 Đắk Lắk 66; 67 Đắk Nông 68; 68 Lâm Đồng 68; 70 Bình Phước 75;
72 Tây Ninh 80; 74 Bình Dương 79; 75 Đồng Nai 75; 77 Bà Rịa - Vũng Tàu 79;
79 Hồ Chí Minh 79; 80 Long An 80; 82 Tiền Giang 82; 83 Bến Tre 86; 84 Trà Vinh 86;
86 Vĩnh Long 86; 87 Đồng Tháp 82; 89 An Giang 91; 91 Kiên Giang 91; 92 Cần Thơ 92;
93 Hậu Giang 92; 94 Sóc Trăng 92; 95 Bạc Liêu 96; 96 Cà Mau 96
"""


class ProvinceRow(TypedDict):
    province_code: str
    name: str
    valid_from: date
    valid_to: date | None
    successor_code: str | None


class WorkingDayRow(TypedDict):
    day: date
    is_working_day: bool
    holiday_name: str | None


class TargetRow(TypedDict):
    indicator: str
    valid_from: date
    valid_to: date | None
    value_pct: float
    source: str
    status: str


def _code(value: int | str) -> str:
    return f"{int(value):02d}"


def clean_name(name: str) -> str:
    """NFC name without the 'Tỉnh '/'Thành phố ' prefix the package uses inconsistently."""
    name = unicodedata.normalize("NFC", name.strip())
    for prefix in ("Tỉnh ", "Thành phố "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def pick_successor(old_code: int, new_codes: Sequence[int]) -> int:
    """The new unit an old province continues in: the one keeping its code, else the sole one."""
    # A few wards of Tiền Giang (82) went to Tây Ninh (80); the province itself continues as 82.
    if old_code in new_codes:
        return old_code
    if len(new_codes) == 1:
        return new_codes[0]
    raise ValueError(f"no single successor for province {old_code}: {list(new_codes)}")


def _legacy_from_package() -> list[tuple[str, str, str]] | None:
    """(code, name, successor) of the 63 old provinces from vietnam-provinces >= 2026, or None."""
    try:
        from vietnam_provinces.legacy import Province as LegacyProvince
    except ImportError:
        return None
    current = vietnam_provinces.Province
    if not hasattr(current, "search_from_legacy"):
        return None
    out = []
    for old in LegacyProvince.iter_all():
        matches = current.search_from_legacy(code=int(old.code))  # type: ignore[attr-defined]
        successor = pick_successor(int(old.code), [int(m.province.code) for m in matches])
        out.append((_code(old.code), clean_name(old.name), _code(successor)))
    return out


def legacy_snapshot() -> list[tuple[str, str, str]]:
    """(code, name, successor) of the 63 old provinces from the embedded snapshot."""
    out = []
    for item in _LEGACY_SNAPSHOT.replace("\n", " ").split(";"):
        text = item.strip()
        out.append((text[:2], unicodedata.normalize("NFC", text[3:-3]), text[-2:]))
    return out


def legacy_provinces() -> list[tuple[str, str, str]]:
    """(code, name, successor) of the 63 provinces in force until 2025-07-01."""
    return _legacy_from_package() or legacy_snapshot()


def _province(
    code: str, name: str, valid_from: date, valid_to: date | None, successor: str | None
) -> ProvinceRow:
    return ProvinceRow(
        province_code=code,
        name=name,
        valid_from=valid_from,
        valid_to=valid_to,
        successor_code=successor,
    )


def _old_rows(code: str, name: str, successor: str) -> list[ProvinceRow]:
    if code != HUE_CODE:
        return [_province(code, name, BOUNDARIES_2008, MERGER_2025, successor)]
    # The package only knows the 2025 name; the 2025-01-01 rename is derived (DOMAIN §5).
    return [
        _province(code, HUE_OLD_NAME, BOUNDARIES_2008, HUE_RENAMED, code),
        _province(code, name, HUE_RENAMED, MERGER_2025, successor),
    ]


def province_rows() -> list[ProvinceRow]:
    """ref.province rows: the 63 old provinces (Huế split at its rename) and the 34 units since."""
    rows: list[ProvinceRow] = []
    for code, name, successor in legacy_provinces():
        rows += _old_rows(code, name, successor)
    for unit in vietnam_provinces.Province.iter_all():
        rows.append(_province(_code(unit.code), clean_name(unit.name), MERGER_2025, None, None))
    return sorted(rows, key=lambda row: (row["province_code"], row["valid_from"]))


def province_as_of(rows: Iterable[ProvinceRow], code: str, on: date) -> ProvinceRow | None:
    """The row for ``code`` in force on ``on`` (valid_from <= on < valid_to), or None."""
    for row in rows:
        if row["province_code"] != code or row["valid_from"] > on:
            continue
        if row["valid_to"] is None or on < row["valid_to"]:
            return row
    return None


def successor_on(
    rows: Sequence[ProvinceRow], code: str, on_date_received: date, as_of: date
) -> str:
    """Code of the unit that covers, on ``as_of``, a record filed under ``code`` on receipt."""
    row = province_as_of(rows, code, on_date_received)
    if row is None:
        raise ValueError(f"province {code} was not in force on {on_date_received}")
    while row["valid_to"] is not None and row["valid_to"] <= as_of:
        ended, next_code = row["valid_to"], row["successor_code"]
        found = province_as_of(rows, next_code, ended) if next_code else None
        if found is None:
            raise ValueError(f"province {row['province_code']} has no successor from {ended}")
        row = found
    return row["province_code"]


def working_day_rows(start: date, end: date) -> list[WorkingDayRow]:
    """One row per day: public holidays (Vietnamese names) and weekends are not working days."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    years = range(start.year, end.year + 1)
    calendar = holidays.country_holidays("VN", years=years, language="vi")
    rows = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        # is_working_day also knows the Saturdays worked to make up a bridged holiday.
        rows.append(
            WorkingDayRow(
                day=day, is_working_day=calendar.is_working_day(day), holiday_name=calendar.get(day)
            )
        )
    return rows


def working_day_set(rows: Iterable[WorkingDayRow]) -> set[date]:
    """The working days of a calendar built by ``working_day_rows``."""
    return {row["day"] for row in rows if row["is_working_day"]}


def working_days_between(calendar: Collection[date], start: date, end: date) -> int:
    """Working days in (start, end]: start excluded, end included; negative when end < start.

    ``calendar`` holds the working days; days it lacks count as non-working, so it must span
    the interval (ref.working_day covers CALENDAR_START..CALENDAR_END). A dossier finished on
    its due date is 0 days overdue; finished the next working day, 1.
    """
    if end < start:
        return -working_days_between(calendar, end, start)
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if start + timedelta(days=offset) in calendar
    )


def target_rows() -> list[TargetRow]:
    """Dated targets with their source; none is confirmed against the legal text yet."""
    since = date(2024, 1, 1)
    specs = [
        (
            "digitization_766",
            80.0,
            "full-score threshold of Decision 766/QĐ-TTg indicator 4.2; "
            "fits the Government Office report 9M/2024 split of provinces",
        ),
        (
            "online_submission",
            50.0,
            "Decision 766/QĐ-TTg: online submission rate full score "
            "at 50 % (as summarised in DOMAIN §4; legal text not checked)",
        ),
        (
            "integrated_payment_procedures",
            80.0,
            "share of procedures with integrated online "
            "payment (as summarised in DOMAIN §4; legal text not checked)",
        ),
        (
            "satisfaction",
            90.0,
            "citizen and business satisfaction (as summarised in DOMAIN §4; "
            "legal text not checked)",
        ),
    ]
    return [
        TargetRow(
            indicator=name,
            valid_from=since,
            valid_to=None,
            value_pct=value,
            source=source,
            status="unverified",
        )
        for name, value, source in specs
    ]


TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "ref.province": tuple(ProvinceRow.__annotations__),
    "ref.working_day": tuple(WorkingDayRow.__annotations__),
    "ref.target": tuple(TargetRow.__annotations__),
    "ref.index766_scoring_rule": tuple(Rule.__annotations__),
    "ref.portal_unit": PORTAL_UNIT_COLUMNS,
}


def reference_tables() -> dict[str, Sequence[Mapping[str, Any]]]:
    """Rows for every reference table, keyed by qualified table name."""
    return {
        "ref.province": province_rows(),
        "ref.working_day": working_day_rows(CALENDAR_START, CALENDAR_END),
        "ref.target": target_rows(),
        "ref.index766_scoring_rule": rule_rows(),
        "ref.portal_unit": portal_unit_rows(),
    }


def insert_statement(table: str) -> sql.Composed:
    """INSERT with named placeholders for every column of ``table``."""
    columns = TABLE_COLUMNS[table]
    return sql.SQL("insert into {} ({}) values ({})").format(
        sql.Identifier(*table.split(".")),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(map(sql.Placeholder, columns)),
    )


def load_reference(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Replace ref.province, ref.working_day and ref.target in one transaction; rows per table."""
    tables = reference_tables()
    # transaction() commits on exit when it opened the transaction, else it is a savepoint
    # inside the caller's transaction and the caller commits.
    with conn.transaction(), conn.cursor() as cur:
        for table, rows in tables.items():
            cur.execute(sql.SQL("delete from {}").format(sql.Identifier(*table.split("."))))
            cur.executemany(insert_statement(table), rows)
    return {table: len(rows) for table, rows in tables.items()}
