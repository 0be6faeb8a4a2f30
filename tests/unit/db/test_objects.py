"""SQL objects as code: the apply order, the doc files and the statements made from them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tthc_warehouse.db import objects
from tthc_warehouse.paths import SQL_DIR

pytestmark = pytest.mark.unit

OBJECT_NAME = re.compile(r"create or replace (?:view|function) (mart\.\w+)")
COMMENT = re.compile(r"--.*$", re.M)


def _read(entry: str) -> str:
    return (SQL_DIR / f"{entry}.sql").read_text(encoding="utf-8")


def test_every_object_file_is_applied_exactly_once() -> None:
    on_disk = {f"{path.parent.name}/{path.stem}" for folder in ("views", "functions")
               for path in (SQL_DIR / folder).glob("*.sql")}
    assert sorted(objects.OBJECTS) == sorted(on_disk)


@pytest.mark.parametrize("entry", objects.OBJECTS)
def test_a_file_creates_the_one_object_it_is_named_after(entry) -> None:
    assert OBJECT_NAME.findall(_read(entry)) == [entry.split("/", 1)[1]]


def test_objects_come_after_the_objects_they_read() -> None:
    names = [entry.split("/", 1)[1] for entry in objects.OBJECTS]
    for position, entry in enumerate(objects.OBJECTS):
        body = OBJECT_NAME.sub("", COMMENT.sub("", _read(entry)))
        read = {name for name in names if re.search(rf"\b{re.escape(name)}\b", body)}
        assert read <= set(names[:position]), f"{entry} reads {sorted(read)} before they exist"


def test_views_and_drop_order() -> None:
    assert objects.views()[0] == "mart.data_as_of"
    drops = objects.drop_statements()
    assert drops[0] == "drop view if exists mart.payment_refund_summary_by_2025_unit"
    assert drops[-1] == "drop function if exists mart.rate"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_doc_loads_with_its_columns_in_file_order(tmp_path) -> None:
    path = _write(tmp_path, "mart.things.yml", (
        "name: things\ndescription: Things (vật)\ncolumns:\n"
        "  - name: b\n    description: ' B (bê) '\n  - name: a\n    description: A (a)\n"))
    doc = objects.load_doc(path, "view")
    assert doc == objects.Doc("things", "view", "Things (vật)", {"b": "B (bê)", "a": "A (a)"})


@pytest.mark.parametrize(("text", "message"), [
    ("name: other\ndescription: x\n", "named after it"),
    ("name: things\n", "description"),
    ("name: things\ndescription: x\ncolumns:\n  - name: a\n", "things.yml: a"),
    ("name: things\ndescription: x\ncolumns:\n  - name: a\n    description: ''\n", "a: needs"),
    ("name: things\ndescription: x\ncolumns:\n  - name: a\n    description: y\n"
     "  - name: a\n    description: z\n", "twice"),
    ("name: things\ndescription: x\ncolumns:\n  - name: a\n    description: y\n    rollup: avg\n",
     "a: rollup is 'avg'"),
])
def test_a_broken_doc_names_the_file_and_the_fault(tmp_path, text, message) -> None:
    with pytest.raises(ValueError, match=message):
        objects.load_doc(_write(tmp_path, "things.yml", text), "table")


def test_comment_statements_quote_the_texts() -> None:
    doc = objects.Doc("things", "table", "It's (vật)", {"a": "50 % (a)"})
    rendered = [s.as_string(None) for s in objects.comment_statements(doc)]
    assert rendered == [
        """comment on table "mart"."things" is 'It''s (vật)'""",
        """comment on column "mart"."things"."a" is '50 % (a)'""",
    ]


def test_the_repository_docs_cover_tables_and_views() -> None:
    docs = {doc.name: doc for doc in objects.load_docs()}
    assert docs["monthly_compliance"].kind == "table"
    assert docs["overdue_dossiers_current"].kind == "view"
    views = {name.split(".", 1)[1] for name in objects.views()}
    assert views <= {name for name, doc in docs.items() if doc.kind == "view"}


def test_rollup_columns_become_one_included_list(tmp_path) -> None:
    (tmp_path / "marts").mkdir()
    (tmp_path / "views").mkdir()
    (tmp_path / objects.FLOW_COUNTS_SQL).write_text("count(*) as n{suffix}", encoding="utf-8")
    _write(tmp_path / "marts", "things.yml", (
        "name: things\ndescription: x\ncolumns:\n  - name: code\n    description: c\n"
        "  - name: b\n    description: b\n    rollup: sum\n"
        "  - name: a\n    description: a\n    rollup: sum\n"))
    _write(tmp_path / "views", "mart.unit_things.sql",
           "select code, {things_sums}, {flow_counts_ytd} from mart.things group by code")
    assert objects.load_doc(tmp_path / "marts" / "things.yml", "table").summed == ("b", "a")
    assert objects.sql_text("views/mart.unit_things.sql", tmp_path).as_string(None) == (
        "select code, sum(b)::bigint as b,\nsum(a)::bigint as a, count(*) as n_ytd "
        "from mart.things group by code")


@pytest.mark.parametrize(("view", "table"), [
    ("views/mart.monthly_compliance_by_2025_unit", "monthly_compliance"),
    ("views/mart.payment_refund_summary_by_2025_unit", "payment_refund_summary"),
])
def test_the_2025_unit_views_sum_the_columns_their_mart_marks(view, table) -> None:
    """A count added to a mart and marked ``rollup: sum`` reaches the unit view with no edit there:
    the view sums no column by hand, and every marked column is a column of the mart."""
    assert "{" + table + "_sums}" in _read(view)
    assert not re.search(r"sum\(\w+\)::bigint as", COMMENT.sub("", _read(view)))
    doc = objects.load_doc(SQL_DIR / "marts" / f"{table}.yml", "table")
    assert doc.summed and set(doc.summed) <= set(doc.columns)
    rendered = objects.sql_text(f"{view}.sql").as_string(None)
    assert re.findall(r"sum\((\w+)\)::bigint as", rendered) == list(doc.summed)
