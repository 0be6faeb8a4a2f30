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


def legacy_provinces() -> list[tuple[str, str, str]]:
    """(code, name, successor) of the 63 provinces in force until 2025-07-01, from vietnam-provinces."""
    from vietnam_provinces.legacy import Province as LegacyProvince

    out = []
    for old in LegacyProvince.iter_all():
        matches = vietnam_provinces.Province.search_from_legacy(code=int(old.code))
        successor = pick_successor(int(old.code), [int(m.province.code) for m in matches])
        out.append((_code(old.code), clean_name(old.name), _code(successor)))
    return out


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
