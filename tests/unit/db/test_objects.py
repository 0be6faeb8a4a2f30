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
