"""The rebuild's fast forms compute what the plain definitions compute (issue 13, "Marts").

The month's dossiers are read once per rebuild into a temporary table with their month-end state,
one history lookup per dossier a mart shows it for, and the 766 deadline finds its working day by
number.
Here a seeded random history full of edge cases (ties, events before receipt and after the
month, no events at all, core's version repeated in the history table or not, finish before
receipt, due dates outside the calendar and on a day the calendar lacks) is checked against the
plain definitions as they were written before: the DISTINCT ON over the whole history (now with
core's row in it) and the per-dossier walk through ref.working_day, kept verbatim below.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import re

import psycopg
import pytest
from psycopg import sql

from tests.conftest import migrated_warehouse
from tthc_warehouse.db import objects
from tthc_warehouse.db.settings import set_local
from tthc_warehouse.marts import builder

pytestmark = pytest.mark.integration

D = dt.datetime
MONTHS = [dt.date(2024, m, 1) for m in range(1, 8)]
CODES = 1500
AGENCIES = ("27.SO-TP", "27.H01", "96.H01")

# mart.dossier_month_end before issue 13 (function body, first_day bound as a parameter), over
# the whole history: the versions in core.fact_dossier_status_event and core's row, which the
# load chose as the newest, so it wins a tie at its instant.
PLAIN_MONTH_END = """
    with history as (
        select dossier_code, status, event_at, false as in_core
        from core.fact_dossier_status_event
        union all
        select dossier_code, status, source_updated_at, true
        from core.fact_dossier
    ),

    last_event as (
        select distinct on (event.dossier_code) event.dossier_code, event.status
        from history as event
        where event.event_at < %(first_day)s::date + interval '1 month'
        order by event.dossier_code asc, event.event_at desc, event.in_core desc, event.status desc
    ),

    dossier as (
        select
            fact.dossier_code,
            coalesce(last_event.status, 2)::smallint as status_at_month_end,
            case when fact.status in (9, 10) then coalesce(fact.finished_at, fact.returned_at)
            end as finish_time
        from core.fact_dossier as fact
        left join last_event on fact.dossier_code = last_event.dossier_code
        where fact.received_at < %(first_day)s::date + interval '1 month'
    )

    select
        dossier_code,
        status_at_month_end,
        case
            when finish_time < %(first_day)s::date + interval '1 month' then false
            else status_at_month_end in (2, 4, 5, 6)
                or (status_at_month_end in (9, 10) and finish_time is not null)
        end as in_progress,
        finish_time
    from dossier
"""

# mart.dossier_flags.due_766 before issue 13: one walk through ref.working_day per dossier.
PLAIN_DUE_766 = """
    with unit as (
        select coalesce(max(text_value), 'working') as supplement_days_unit
        from ref.setting
        where name = 'supplement_days_unit'
    )

    select
        fact.dossier_code,
        coalesce(
            shifted.day + fact.due_at::time,
            fact.due_at + make_interval(days => fact.supplement_days)
        ) as due_766
    from core.fact_dossier as fact
    cross join unit
    left join lateral (
        select working.day
        from ref.working_day as working
        where working.is_working_day and working.day > fact.due_at::date
        order by working.day
        limit 1 offset greatest(fact.supplement_days - 1, 0)
    ) as shifted on fact.supplement_days > 0 and unit.supplement_days_unit = 'working'
    where fact.received_at is not null
"""


def random_history(rng: random.Random) -> tuple[list[tuple], list[tuple]]:
    """Facts and status events: every oddity the sources were seen to send, and a few more."""
    facts, events = [], []
    base = D(2023, 11, 15)
    for i in range(CODES):
        code = f"X{i:05d}"
        received = None if rng.random() < 0.03 else base + dt.timedelta(minutes=rng.randrange(260 * 1440))
        status = rng.choice((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 9)) if received else 1
        anchor = received or base + dt.timedelta(days=rng.randrange(200))
        finished = returned = None
        if status in (3, 7, 8, 9, 10) and rng.random() < 0.9:
            # mostly after receipt; a few before it (a source that mixes up the two fields)
            finished = anchor + dt.timedelta(minutes=rng.randrange(-3 * 1440, 90 * 1440))
        if status == 10 and rng.random() < 0.7:
            returned = (finished or anchor) + dt.timedelta(minutes=rng.randrange(0, 5 * 1440))
        roll = rng.random()
        if roll < 0.05:
            due = None
        elif roll < 0.08:  # outside the calendar (2023-2026), both sides
            due = rng.choice((D(2022, 12, 28, 17), D(2027, 1, 4, 9)))
        elif roll < 0.12:  # on the day the test deletes from the calendar
            due = D(2024, 3, 13, 16, 30)
        else:
            due = anchor + dt.timedelta(days=rng.randrange(1, 25), hours=rng.randrange(8))
        supplements = rng.choice((0, 0, 0, 1, 1, 2, 3))
        supplement_days = 0 if supplements == 0 or rng.random() < 0.2 else rng.randrange(1, 40)
        updated = max(x for x in (anchor, finished, returned) if x is not None)
        facts.append((
            code, "1.000001", rng.choice(AGENCIES), status, received, due, finished, returned,
            supplements, supplement_days, rng.random() < 0.9, rng.random() < 0.8, rng.random() < 0.5,
            rng.random() < 0.9, rng.choice((None, 1, 2, 3)), rng.choice((0, 0, 50_000)),
            rng.choice((0, 1, 2)), updated,
        ))
        history, at = [], anchor - dt.timedelta(days=rng.choice((0, 0, 0, 2)))  # some before receipt
        for _ in range(rng.choice((0, 1, 1, 2, 3, 4, 5))):
            history.append((at, rng.choice((2, 4, 5, 6, 9, 10, 3, 7, 8))))
            if rng.random() < 0.15:  # a tie: two statuses at one instant
                history.append((at, rng.choice((2, 4, 5, 9, 10))))
            at += dt.timedelta(minutes=rng.randrange(1, 50 * 1440))
        # core's row is the newest version (publish keeps the newest): no event after it, and
        # mostly (as published before the history table stopped repeating core's row) one at it
        history = [(when, s) for when, s in history if when <= updated]
        if history and rng.random() < 0.8:
            history.append((updated, status))
        events += [(code, s, when) for when, s in dict.fromkeys(history)]
    return facts, events


@pytest.fixture(scope="module")
def url(server_url):
    facts, events = random_history(random.Random(13))
    with migrated_warehouse(server_url, "tthc_mart_plans") as url:
        with psycopg.connect(url) as conn:
            conn.execute("delete from ref.working_day where day = '2024-03-13'")  # a gap
            with conn.cursor().copy(
                "copy core.fact_dossier (dossier_code, procedure_code, processing_agency_code, status, "
                "received_at, due_at, finished_at, returned_at, supplement_count, supplement_days, "
                "components_digitized, result_digitized, requires_paper_result, synced_to_portal, "
                "channel, fee_amount, paid_online, source_updated_at, province_code, batch_id) "
                "from stdin") as copy:
                for row in facts:
                    copy.write_row((*row, row[2][:2], "test"))
            with conn.cursor().copy("copy core.fact_dossier_status_event (dossier_code, status, "
                                    "event_at, batch_id) from stdin") as copy:
                for row in events:
                    copy.write_row((*row, "test"))
            conn.commit()
        yield url


@pytest.fixture
def loader_conn(url):
    with psycopg.connect(url) as conn:
        conn.execute("set role tthc_loader")
        conn.commit()
        yield conn


def month_end(month: dt.date) -> D:
    return D(month.year + month.month // 12, month.month % 12 + 1, 1)


@pytest.mark.parametrize("month", MONTHS, ids=str)
def test_the_month_table_holds_the_plain_definitions_dossiers_and_states(loader_conn, month) -> None:
    """Every dossier that can count in the month (received by its end; received in it, finished
    in it or later, or unfinished) with its flags, and the plain definition's state: in_progress
    for each, the status for those a mart shows it for (not finished by the month end, or
    finished late in it). The dossiers left out are in no stock of the month."""
    start, end = D.combine(month, dt.time()), month_end(month)
    with loader_conn.transaction(force_rollback=True):
        rows = builder.prepare_month(loader_conn, month)
        table = sql.SQL(builder.MONTH_END_TABLE)
        fast = loader_conn.execute(sql.SQL(
            "select dossier_code, status_at_month_end, in_progress from {}").format(table)).fetchall()
        fast_flags = loader_conn.execute(sql.SQL(
            "select to_jsonb(t) - 'status_at_month_end' - 'in_progress' from {} as t").format(table)
        ).fetchall()
        flags = {r[0]: r for r in loader_conn.execute(
            "select dossier_code, finished_at, not (on_time_766 and on_time_provincial) as late, "
            "received_at from mart.dossier_flags")}
        plain_flags = loader_conn.execute(
            "select to_jsonb(f) from mart.dossier_flags as f where received_at < %(end)s and "
            "(received_at >= %(start)s or finished_at >= %(start)s or finished_at is null)",
            {"start": start, "end": end}).fetchall()
        plain = loader_conn.execute(PLAIN_MONTH_END, {"first_day": month}).fetchall()
    expected, left_out = [], []
    for code, status, in_progress, finish in plain:
        received, late = flags[code][3], flags[code][2]
        if received >= start or finish is None or finish >= start:
            shown = finish is None or finish >= end or late
            expected.append((code, status if shown else None, in_progress))
        else:
            left_out.append(in_progress)
    assert rows == len(fast)
    assert sorted(fast, key=str) == sorted(expected, key=str)
    assert sorted(fast_flags, key=str) == sorted(plain_flags, key=str)
    assert len(expected) > 100 and len(left_out) > 20
    assert sum(r[2] for r in expected) > 50
    assert not any(left_out)


@pytest.mark.parametrize("unit", ["working", "calendar"])
def test_the_766_deadline_by_working_day_number_is_the_walk_through_the_calendar(url, unit) -> None:
    with psycopg.connect(url) as conn, conn.transaction(force_rollback=True):
        conn.execute("update ref.setting set text_value = %s where name = 'supplement_days_unit'", (unit,))
        fast = conn.execute("select dossier_code, due_766 from mart.dossier_flags").fetchall()
        plain = conn.execute(PLAIN_DUE_766).fetchall()
    assert sorted(fast) == sorted(plain)
    shifted = [r for r in plain if r[1] is not None]
    assert len(shifted) > CODES // 2


def mart_rows(conn) -> dict[str, list[tuple]]:
    return {table: conn.execute(sql.SQL("select * from {} as t order by t::text").format(
        sql.Identifier(*table.split(".")))).fetchall() for table in builder.MONTHLY_MARTS}


def test_the_marts_equal_those_built_on_the_plain_month_end_state(url, loader_conn, monkeypatch) -> None:
    """Every month of every mart, once from the fast month table, once from the plain
    definition's rows in its place: every dossier received by the month end, each with its state."""
    builder.rebuild_months(loader_conn, MONTHS)
    fast = mart_rows(loader_conn)

    def plain_state(conn, month):
        table = sql.SQL(builder.MONTH_END_TABLE)
        conn.execute(sql.SQL("drop table if exists {}").format(table))
        conn.execute(sql.SQL(
            "create temporary table {} on commit drop as select flags.*, plain.status_at_month_end, "
            "plain.in_progress from mart.dossier_flags as flags inner join ({}) as plain "
            "on flags.dossier_code = plain.dossier_code").format(
                table, sql.SQL(PLAIN_MONTH_END.replace("%(first_day)s", "%(month)s"))),
            {"month": month})
        return 0

    monkeypatch.setattr(builder, "prepare_month", plain_state)
    builder.rebuild_months(loader_conn, MONTHS)
    plain = mart_rows(loader_conn)
    assert {t: len(rows) for t, rows in fast.items()} == {t: len(rows) for t, rows in plain.items()}
    assert fast == plain
    assert len(fast["mart.overdue_dossiers"]) > 100
    assert sum(r[0] for r in loader_conn.execute(
        "select in_progress_at_month_end from mart.agency_monthly_counts")) > 100


def test_the_year_to_date_counted_aside_equals_the_one_counted_in_turn(url, loader_conn) -> None:
    """Given a way to connect, the rebuild counts the year to date on a second connection in its
    snapshot; every mart comes out as when it is counted on the rebuild's own connection."""
    builder.rebuild_months(loader_conn, MONTHS)
    in_turn = mart_rows(loader_conn)
    loader_conn.commit()

    opened = []

    @contextlib.contextmanager
    def connect():
        with psycopg.connect(url, options="-c role=tthc_loader") as side:
            opened.append(side.execute("select pg_backend_pid()").fetchone()[0])
            side.rollback()
            yield side

    rebuilt = builder.rebuild_months(loader_conn, MONTHS, connect)
    aside = mart_rows(loader_conn)
    assert len(opened) == len(rebuilt)  # one second connection per month
    assert loader_conn.info.backend_pid not in opened
    assert aside == in_turn
    assert any(row[0] for row in loader_conn.execute(
        "select dossiers_received_ytd from mart.monthly_compliance"))


def test_the_second_connection_gives_up_waiting_behind_ddl(url, loader_conn, monkeypatch) -> None:
    """A third session asking for an exclusive lock on core, behind the rebuild's shared one, would
    make the second connection wait for it while the rebuild waits (in Python) for the second
    connection: a deadlock PostgreSQL cannot see. The second connection's lock_timeout ends it."""
    import threading

    monkeypatch.setitem(builder.SIDE_SETTINGS, "lock_timeout", "500ms")

    @contextlib.contextmanager
    def connect():
        with psycopg.connect(url, options="-c role=tthc_loader") as side:
            yield side

    snapshot = loader_conn.execute("select pg_export_snapshot()").fetchone()[0]
    loader_conn.execute("select 1 from core.fact_dossier limit 1")  # the rebuild's shared lock
    with psycopg.connect(url, autocommit=True) as ddl:
        waiting = threading.Thread(target=ddl.execute, args=(
            "begin; lock table core.fact_dossier in access exclusive mode; rollback",))
        waiting.start()
        try:
            with pytest.raises(psycopg.errors.LockNotAvailable):
                builder._count_year_to_date(connect, snapshot, MONTHS[0])
        finally:
            loader_conn.rollback()  # the exclusive lock is granted, and rolled back
            waiting.join(timeout=30)
    assert not waiting.is_alive()


def test_the_year_to_date_sees_the_rebuilds_own_uncommitted_facts(loader_conn) -> None:
    """With work pending on the rebuild's connection (which a second connection cannot see), the
    year to date is counted on that connection, and counts the pending dossier."""
    month = MONTHS[-1]
    received = "select sum(dossiers_received_ytd) from mart.monthly_compliance where month = %s"

    def connect():
        raise AssertionError("a second connection would not see the pending dossier")

    with loader_conn.transaction(force_rollback=True):
        builder.rebuild_month(loader_conn, month)
        before = loader_conn.execute(received, (month,)).fetchone()[0]
        loader_conn.execute(
            "insert into core.fact_dossier (dossier_code, procedure_code, processing_agency_code, "
            "province_code, status, received_at, source_updated_at, batch_id) "
            "select 'PENDING-1', procedure_code, processing_agency_code, province_code, 2, %s, %s, "
            "'pending' from core.fact_dossier where received_at is not null limit 1",
            (D.combine(month, dt.time(9)), D.combine(month, dt.time(9))))
        builder.rebuild_month(loader_conn, month, connect)
        assert loader_conn.execute(received, (month,)).fetchone()[0] == before + 1


MART_STATEMENTS = sorted({path for paths in builder.MONTHLY_MARTS.values() for path in paths})
CALLED = re.compile(r"\bmart\.\w+\(")


@pytest.mark.parametrize("path", [builder.MONTH_END_SQL, builder.YEAR_TO_DATE_SQL, *MART_STATEMENTS])
def test_the_rebuild_inlines_every_mart_function(loader_conn, path) -> None:
    """The mart SQL functions are single expressions written to be inlined; one left as a call
    runs the SQL-function machinery once per row. PostgreSQL declines to inline a function that
    reads an argument twice when that argument carries a subquery (the as-of instant, via
    mart.data_as_of), as mart.working_days_between in overdue_dossiers.sql did (2.2 s instead of
    0.8 s for a month of 450,000 overdue dossiers)."""
    with loader_conn.transaction(force_rollback=True):
        set_local(loader_conn, builder.SETTINGS)
        builder.prepare_month(loader_conn, MONTHS[2])
        builder.fill_year_to_date(loader_conn, MONTHS[2])
        plan = "\n".join(r[0] for r in loader_conn.execute(
            sql.SQL("explain verbose {}").format(objects.sql_text(path)), {"month": MONTHS[2]}))
    assert not CALLED.findall(plan), path


@pytest.mark.parametrize("view", objects.views())
def test_the_views_inline_every_mart_function(loader_conn, view) -> None:
    plan = "\n".join(r[0] for r in loader_conn.execute(
        sql.SQL("explain verbose select * from {}").format(sql.Identifier(*view.split(".")))))
    loader_conn.rollback()
    assert not CALLED.findall(plan), view
