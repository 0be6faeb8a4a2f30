"""The paged HTTP feed lands pages byte for byte, retries what is transient and refuses the rest."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import pytest

from tthc_warehouse.extract.base import ROW_COLUMN, SourceError
from tthc_warehouse.extract.http_api import (
    FeedUnavailable,
    HttpFeed,
    HttpSourceError,
    backoff_delay,
    land_pages,
    parse_retry_after,
    read_landed_pages,
)
from tthc_warehouse.simulator.api_server import PagedApiServer

pytestmark = pytest.mark.unit

LOGIN, PASSWORD, TOKEN = "etl-hn", "s3cr3t-Pa55-wörd", "tok-9f8e7d6c5b4a"
FROM, TO = datetime(2026, 9, 1), datetime(2026, 9, 2)


def _record(n: int, hour: int) -> dict:
    return {"MaHoSo": f"H01.{n:04d}", "TenTTHC": "Đăng ký khai sinh", "TrangThai": 4,
            "PhiLePhi": 50000, "DaSoHoa": n % 2 == 0, "NgayTra": None,
            "source_updated_at": (FROM + timedelta(hours=hour)).isoformat(sep=" ")}


RECORDS = [_record(n, n) for n in range(1, 8)] + [_record(99, 30)]  # the last is outside


def _feed(server: PagedApiServer, **kw) -> HttpFeed:
    options = {"login": LOGIN, "password": PASSWORD, "page_size": 2, "timeout": 5.0,
               "max_retries": 3} | kw
    return HttpFeed(server.url, "/api/hoso", **options)


@pytest.fixture
def server():
    with PagedApiServer(RECORDS, page_size=2, login=LOGIN, password=PASSWORD) as api:
        yield api


@pytest.fixture
def sleeps() -> list[float]:
    return []


def test_lands_every_page_byte_for_byte_with_basic_auth(server, tmp_path, sleeps):
    paths = land_pages(_feed(server), FROM, TO, tmp_path, sleep=sleeps.append)
    assert [p.name for p in paths] == [f"page-0000{n}.json" for n in (1, 2, 3, 4)]
    assert [p.read_bytes() for p in paths] == [r.body for r in server.requests]
    assert server.pages_requested() == [1, 2, 3, 4]
    first = server.requests[0]
    assert first.path == "/api/hoso" and first.auth == "basic"
    assert first.query == {"updated_from": "2026-09-01T00:00:00",
                           "updated_to": "2026-09-02T00:00:00", "page": "1", "page_size": "2"}
    assert "Authorization" not in first.headers
    assert sleeps == [] and sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]


def test_bearer_token_is_sent(tmp_path):
    with PagedApiServer(RECORDS, page_size=10, token=TOKEN) as api:
        paths = land_pages(HttpFeed(api.url, "feed", token=TOKEN), FROM, TO, tmp_path)
    assert len(paths) == 1 and api.requests[0].auth == "bearer"


def test_server_errors_are_retried_with_exponential_backoff(server, tmp_path, sleeps):
    server.add_faults(2, "500", "503", "reset")
    paths = land_pages(_feed(server), FROM, TO, tmp_path, sleep=sleeps.append)
    assert len(paths) == 4 and sleeps == [1.0, 2.0, 4.0]
    assert server.pages_requested() == [1, 2, 2, 2, 2, 3, 4]


def test_backoff_is_capped_and_jitter_is_reproducible(server):
    feed = _feed(server, backoff_base=1.0, backoff_max=10.0)
    assert [backoff_delay(feed, a) for a in range(5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    jittered = [backoff_delay(feed, a, random.Random(7)) for a in range(3)]
    assert jittered == [backoff_delay(feed, a, random.Random(7)) for a in range(3)]
    assert all(1.0 * 2**a <= d <= 1.1 * 2**a for a, d in enumerate(jittered))


def test_429_honours_retry_after(server, tmp_path, sleeps):
    server.add_faults(1, "429:7")
    land_pages(_feed(server), FROM, TO, tmp_path, sleep=sleeps.append)
    assert sleeps == [7.0] and server.pages_requested()[:2] == [1, 1]


def test_retry_after_may_be_an_http_date():
    now = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=42), usegmt=True), now) == 42
    assert parse_retry_after("Wed, 01 Jan 2020 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None) is None


def test_a_timeout_is_retried(server, tmp_path, sleeps):
    server.add_faults(3, "delay:1")
    paths = land_pages(_feed(server, timeout=0.3), FROM, TO, tmp_path, sleep=sleeps.append)
    assert len(paths) == 4 and sleeps == [1.0]
    assert server.pages_requested() == [1, 2, 3, 3, 4]


@pytest.mark.parametrize(("fault", "message"), [
    ("truncate", "truncated body"),
    ("html", "Content-Type is 'text/html"),
    ("badjson", "not valid JSON"),
    ("nokeys", "lacks key(s) page, total_pages, items"),
])
def test_a_broken_page_is_refused_without_retrying(server, tmp_path, sleeps, fault, message):
    server.add_faults(2, fault)
    with pytest.raises(HttpSourceError, match=r"page 2 of http://127\.0\.0\.1") as caught:
        land_pages(_feed(server), FROM, TO, tmp_path, sleep=sleeps.append)
    assert message in str(caught.value)
    assert server.pages_requested() == [1, 2] and sleeps == []
    assert [p.name for p in tmp_path.iterdir()] == ["page-00001.json"]  # no partial page 2


def test_a_rerun_resumes_at_the_first_missing_page(server, tmp_path, sleeps):
    server.add_faults(3, *["503"] * 4)
    with pytest.raises(FeedUnavailable) as caught:
        land_pages(_feed(server), FROM, TO, tmp_path, sleep=sleeps.append)
    text = str(caught.value)
    assert "page 3 of" in text and "gave up after 4 attempt(s)" in text and "HTTP 503" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page-00001.json", "page-00002.json"]
    before = len(server.requests)
    paths = land_pages(_feed(server), FROM, TO, tmp_path, sleep=sleeps.append)
    assert [r.page for r in server.requests[before:]] == [3, 4] and len(paths) == 4


def test_unauthorized_fails_at_once(server, tmp_path, sleeps):
    with pytest.raises(HttpSourceError, match="HTTP 401 Unauthorized") as caught:
        land_pages(_feed(server, password="wrong"), FROM, TO, tmp_path, sleep=sleeps.append)
    assert "authentication required" in str(caught.value)  # the start of the body
    assert "login/password or token" in str(caught.value)
    assert len(server.requests) == 1 and sleeps == []


def test_credentials_never_reach_errors_or_logs(server, tmp_path, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    server.add_faults("*", *["500"] * 4)
    feed = _feed(server, max_retries=2, token=None)
    with pytest.raises(FeedUnavailable) as retried:
        land_pages(feed, FROM, TO, tmp_path, sleep=sleeps.append)
    embedded = HttpFeed(server.url.replace("//", f"//{LOGIN}:{PASSWORD}@"), "/api/hoso",
                        max_retries=0)
    with pytest.raises(FeedUnavailable) as refused:
        land_pages(embedded, FROM, TO, tmp_path / "again", sleep=sleeps.append)
    shown = [str(retried.value), str(refused.value), repr(feed), repr(embedded), caplog.text]
    assert caplog.records and not [s for s in shown if PASSWORD in s or TOKEN in s]
    assert embedded.login == LOGIN and embedded.password == PASSWORD


def test_connection_refused_is_retried_then_named(tmp_path, sleeps):
    api = PagedApiServer(RECORDS, page_size=2).start()
    url = api.url
    api.stop()
    with pytest.raises(FeedUnavailable, match="ConnectionRefusedError") as caught:
        land_pages(HttpFeed(url, "/x", max_retries=2), FROM, TO, tmp_path, sleep=sleeps.append)
    assert "page 1 of" in str(caught.value) and sleeps == [1.0, 2.0]


def test_from_airflow_connection_uses_host_schema_port_and_extras(server):
    conn = SimpleNamespace(host="feeds.hanoi.gov.vn", schema="https", port=8443, login=LOGIN,
                           password=PASSWORD, extra_dejson={"page_size": "500", "timeout": 10})
    feed = HttpFeed.from_airflow_connection(conn, "/api/hoso", max_retries=1)
    assert feed.base_url == "https://feeds.hanoi.gov.vn:8443"
    assert (feed.login, feed.password, feed.page_size, feed.timeout, feed.max_retries) == (
        LOGIN, PASSWORD, 500, 10.0, 1)
    assert PASSWORD not in repr(feed)
    bare = SimpleNamespace(host=server.url, schema=None, port=None, login=None, password=None,
                           extra_dejson={"token": TOKEN})
    assert HttpFeed.from_airflow_connection(bare, "x").token == TOKEN


def test_landed_pages_read_back_as_bounded_text_chunks(server, tmp_path):
    paths = land_pages(_feed(server), FROM, TO, tmp_path)
    chunks = list(read_landed_pages(paths, chunk_rows=3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [n for c in chunks for n in c[ROW_COLUMN]] == list(range(1, 8))
    first = chunks[0]
    assert list(first.columns) == [ROW_COLUMN, "MaHoSo", "TenTTHC", "TrangThai", "PhiLePhi",
                                   "DaSoHoa", "NgayTra", "source_updated_at"]
    assert first.iloc[1].drop(ROW_COLUMN).tolist() == [
        "H01.0002", "Đăng ký khai sinh", "4", "50000", "true", None, "2026-09-01 02:00:00"]


def test_a_bad_landed_page_is_named(tmp_path):
    good, bad = tmp_path / "page-00001.json", tmp_path / "page-00002.json"
    good.write_text('{"page": 1, "total_pages": 2, "items": [{"a": 1.50}]}')
    bad.write_text('{"page": 2, "total_pages": 2, "items": [{"a": ')
    chunks = read_landed_pages([good, bad], chunk_rows=1)
    assert next(chunks)["a"].tolist() == ["1.50"]  # numbers keep the source's text
    with pytest.raises(SourceError, match=r"page-00002\.json: cannot read landed page"):
        next(chunks)


def test_an_invalid_landed_page_stops_a_resume(server, tmp_path):
    (tmp_path / "page-00001.json").write_bytes(b"")
    with pytest.raises(HttpSourceError, match="delete it so the next run fetches it again"):
        land_pages(_feed(server), FROM, TO, tmp_path)
    assert server.requests == []


@pytest.mark.parametrize("fault", ["500", "503", "reset", "delay:1", "refused"])
def test_an_outage_is_retried_then_is_not_a_source_error(server, tmp_path, sleeps, fault):
    """Outages end in FeedUnavailable, which the DAG retries later; they are not data errors."""
    feed = _feed(server, max_retries=2, timeout=0.3)
    if fault == "refused":
        server.stop()
    else:
        server.add_faults(1, *[fault] * 3)
    with pytest.raises(FeedUnavailable, match=r"page 1 of .*gave up after 3 attempt") as caught:
        land_pages(feed, FROM, TO, tmp_path, sleep=sleeps.append)
    assert not isinstance(caught.value, SourceError) and sleeps == [1.0, 2.0]


@pytest.mark.parametrize("fault", ["400", "404", "truncate", "html", "badjson", "nokeys"])
def test_a_data_error_is_a_source_error_raised_at_once(server, tmp_path, sleeps, fault):
    """A refused answer is a SourceError (the DAG fails it at once) after a single request."""
    server.add_faults(1, fault)
    with pytest.raises(HttpSourceError, match="page 1 of") as caught:
        land_pages(_feed(server), FROM, TO, tmp_path, sleep=sleeps.append)
    assert isinstance(caught.value, SourceError) and not isinstance(caught.value, FeedUnavailable)
    assert server.pages_requested() == [1] and sleeps == []
