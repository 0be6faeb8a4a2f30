"""A province's paged HTTP JSON API: every page landed byte for byte, then read back as raw chunks.

Contract: ``GET {base_url}{path}?updated_from=ISO&updated_to=ISO&page=N&page_size=M`` answers
``application/json`` ``{"page": N, "total_pages": T, "items": [{...}, ...]}``. Pages are written
to ``dest/page-00001.json``, ... through a hidden temporary name, so a page file that exists is
complete and a rerun resumes at the first missing page. Credentials never reach logs or errors.

Two kinds of failure, for the DAG to treat differently: ``HttpSourceError`` (a ``SourceError``)
when the feed answers something retrying cannot fix, and ``FeedUnavailable`` when it stayed down
(5xx, 429, timeouts, refused connections) through every retry.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import tenacity

from tthc_warehouse.extract.base import CHUNK_ROWS, ROW_COLUMN, SourceError

log = logging.getLogger(__name__)

PAGE_KEYS = ("page", "total_pages", "items")
# Connection extras that tune the feed, with the type each is coerced to (extras are often text).
EXTRA_FIELDS: dict[str, type] = {"token": str, "page_size": int, "timeout": float,
                                 "max_retries": int, "backoff_base": float, "backoff_max": float}


class HttpSourceError(SourceError):
    """The feed answered what retrying cannot fix (bad status, not JSON, truncated); names the page."""


class FeedUnavailable(Exception):  # not a SourceError: an outage is worth a later task retry
    """The feed stayed unreachable or failing through every retry; names the page and last error."""


class _Transient(Exception):
    """A failure worth retrying; ``wait`` is the server's Retry-After in seconds, if any."""

    def __init__(self, message: str, wait: float | None = None):
        super().__init__(message)
        self.wait = wait


@dataclass
class HttpFeed:
    """Where and how to page through one province endpoint; secrets are kept out of repr."""

    base_url: str
    path: str
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    page_size: int = 1000
    timeout: float = 30.0
    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0

    def __post_init__(self) -> None:
        url = httpx.URL(self.base_url.strip())
        if url.userinfo:  # user:pw@host would be logged with every URL: move it to the fields
            self.login = self.login or url.username
            self.password = self.password or url.password or None
            url = url.copy_with(userinfo=b"")
        self.base_url = str(url).rstrip("/")
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"base_url must look like https://host[:port], got {self.base_url!r}")
        if self.page_size < 1 or self.max_retries < 0 or self.timeout <= 0:
            raise ValueError("page_size must be >= 1, max_retries >= 0 and timeout > 0")

    @classmethod
    def from_airflow_connection(cls, conn: Any, path: str, **kw: Any) -> HttpFeed:
        """Build from an Airflow HTTP Connection; ``extra`` may set token/tuning; ``kw`` wins."""
        extra = dict(getattr(conn, "extra_dejson", None) or {})
        fields: dict[str, Any] = {k: EXTRA_FIELDS[k](extra[k]) for k in EXTRA_FIELDS
                                  if extra.get(k) not in (None, "")}
        fields.update(base_url=_connection_base_url(conn), path=path,
                      login=conn.login or None, password=conn.password or None)
        return cls(**fields | kw)

    def page_url(self, updated_from: datetime, updated_to: datetime, page: int) -> str:
        """The URL of one page of the window (carries no credentials)."""
        query = urllib.parse.urlencode({"updated_from": updated_from.isoformat(),
                                        "updated_to": updated_to.isoformat(),
                                        "page": page, "page_size": self.page_size})
        return f"{self.base_url}/{self.path.lstrip('/')}?{query}"

    def client(self) -> httpx.Client:
        """A client sending Bearer auth when a token is set, else Basic when a login is."""
        headers = {"Accept": "application/json", "User-Agent": "tthc-warehouse"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        auth = (self.login, self.password or "") if self.login and not self.token else None
        # redirects are not followed, so credentials are never forwarded to another host
        return httpx.Client(headers=headers, auth=auth, timeout=self.timeout, follow_redirects=False)

    def scrub(self, text: str) -> str:
        """``text`` with the password and token blanked out, should a server echo them back."""
        for secret in (self.password, self.token):
            if secret:
                text = text.replace(secret, "***")
        return text


def _connection_base_url(conn: Any) -> str:
    """``schema://host:port`` of an Airflow Connection (schema is the scheme, default https)."""
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        raise HttpSourceError("the Airflow connection has no host: set it to the API's host name")
    url = httpx.URL(host if "://" in host else f"{conn.schema or 'https'}://{host}")
    return str(url.copy_with(port=conn.port) if conn.port and url.port is None else url)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date); None if unusable."""
    value = (value or "").strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(feed: HttpFeed, attempt: int, rng: random.Random | None = None) -> float:
    """``backoff_base * 2**attempt`` capped at ``backoff_max``; 0-10% jitter only with ``rng``."""
    delay = feed.backoff_base * 2.0 ** attempt
    if rng is not None:  # spreads workers that failed together, reproducibly in tests
        delay *= 1 + 0.1 * rng.random()
    return min(feed.backoff_max, delay)


def land_pages(feed: HttpFeed, updated_from: datetime, updated_to: datetime, dest: Path,
               sleep: Callable[[float], None] = time.sleep,
               rng: random.Random | None = None) -> list[Path]:
    """Land each page of the window into ``dest`` (one folder per window); landed pages stay."""
    from tthc_warehouse.extract.landing import private_dir

    private_dir(dest)
    paths: list[Path] = []
    page, total = 1, 1
    with feed.client() as client:
        while page <= total:
            path = dest / f"page-{page:05d}.json"
            if path.exists():
                total = _landed_total(path, page)
                log.info("page %d already landed at %s; not fetched again", page, path)
            else:
                url = feed.page_url(updated_from, updated_to, page)
                body, total = _fetch_with_retries(feed, client, url, page, sleep, rng)
                _write_atomically(path, body)
                log.info("landed page %d of %d from %s (%d bytes)", page, total, url, len(body))
            paths.append(path)
            page += 1
    return paths


def _landed_total(path: Path, page: int) -> int:
    try:
        return _check_page(path.read_bytes(), page)
    except HttpSourceError as err:
        raise HttpSourceError(f"{path} is not a valid landed page ({err}); delete it so the "
                              "next run fetches it again") from None


def _fetch_with_retries(feed: HttpFeed, client: httpx.Client, url: str, page: int,
                        sleep: Callable[[float], None],
                        rng: random.Random | None) -> tuple[bytes, int]:
    def wait(state: tenacity.RetryCallState) -> float:
        server_wait = state.outcome.exception().wait  # type: ignore[union-attr]
        return server_wait if server_wait is not None else backoff_delay(
            feed, state.attempt_number - 1, rng)

    def log_retry(state: tenacity.RetryCallState) -> None:
        log.warning("page %d of %s: %s; retry %d of %d in %.1f s", page, url,
                    feed.scrub(str(state.outcome.exception())), state.attempt_number,  # type: ignore[union-attr]
                    feed.max_retries, state.upcoming_sleep)

    retrying = tenacity.Retrying(retry=tenacity.retry_if_exception_type(_Transient),
                                 stop=tenacity.stop_after_attempt(feed.max_retries + 1),
                                 wait=wait, sleep=sleep, before_sleep=log_retry)
    try:
        return retrying(_fetch_once, client, url, page)
    except HttpSourceError as err:  # raised bare by the helpers: name the page here
        raise HttpSourceError(feed.scrub(f"page {page} of {url}: {err}")) from None
    except tenacity.RetryError as err:
        raise FeedUnavailable(feed.scrub(
            f"page {page} of {url}: gave up after {feed.max_retries + 1} attempt(s); "
            f"last error: {err.last_attempt.exception()}")) from None


def _fetch_once(client: httpx.Client, url: str, page: int) -> tuple[bytes, int]:
    try:
        with client.stream("GET", url) as response:
            _check_status(response)
            body = _read_json_body(response)
    except httpx.TransportError as err:  # refused, reset, DNS, timeouts
        raise _Transient(_innermost(err)) from None
    return body, _check_page(body, page)


def _innermost(err: BaseException) -> str:
    """The root cause (``ConnectionRefusedError: ...``), which says more than httpx's wrapper."""
    while (inner := err.__cause__ or err.__context__) is not None:
        err = inner
    return f"{type(err).__name__}: {err}"


def _check_status(response: httpx.Response) -> None:
    """Return for 2xx; 429 and 5xx raise ``_Transient``, the rest ``HttpSourceError``."""
    code = response.status_code
    if code == 429:
        raise _Transient("HTTP 429 Too Many Requests",
                         wait=parse_retry_after(response.headers.get("Retry-After")))
    if response.is_success:
        return
    message = f"HTTP {code} {response.reason_phrase}: {_snippet(response)}"
    if code >= 500:
        raise _Transient(message)
    if code in (401, 403):
        message += " (check the connection's login/password or token)"
    elif response.is_redirect:  # following it could hand the credentials to another host
        message += " (redirects are not followed: point the connection at the final URL)"
    raise HttpSourceError(message)


def _read_json_body(response: httpx.Response) -> bytes:
    content_type = response.headers.get("Content-Type", "")
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise HttpSourceError(f"expected JSON but Content-Type is {content_type!r}: {_snippet(response)}")
    try:
        return response.read()
    except httpx.RemoteProtocolError as err:  # hung up before Content-Length bytes were sent
        raise HttpSourceError(f"truncated body: {err}") from None


def _check_page(body: bytes, page: int) -> int:
    """``total_pages`` of a page body that has the contract's shape, else ``HttpSourceError``."""
    try:
        doc = json.loads(body)
    except ValueError as err:
        raise HttpSourceError(f"body is not valid JSON (truncated?): {err}") from None
    missing = [k for k in PAGE_KEYS if k not in doc] if isinstance(doc, dict) else list(PAGE_KEYS)
    if missing:
        raise HttpSourceError(f"JSON lacks key(s) {', '.join(missing)}; expected an object with "
                       "page, total_pages and items")
    total = doc["total_pages"]
    if type(total) is not int or total < 0 or not isinstance(doc["items"], list):
        raise HttpSourceError("total_pages must be a whole number and items a list")
    if doc["page"] != page:
        raise HttpSourceError(f"asked for page {page} but the server answered page {doc['page']!r}")
    return total


def _snippet(response: httpx.Response) -> str:
    return response.read()[:200].decode("utf-8", errors="replace").strip()


def _write_atomically(path: Path, body: bytes) -> None:
    """Write a hidden ``.part`` file, then rename it, so ``path`` only ever exists complete."""
    part = path.with_name(f".{path.name}.part")  # a leftover from a crash is simply overwritten
    with open(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)  # an older part file keeps its mode otherwise
        fh.write(body)
        os.fsync(fh.fileno())
    os.replace(part, path)


def read_landed_pages(paths: list[Path], chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Raw chunks of the landed pages' items (text or None), numbered 1.. across all pages."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be >= 1")
    rows: list[dict[str, str | None]] = []
    first_row = 1
    for path in paths:
        for item in _page_items(path):  # at most one page parsed beyond the current chunk
            rows.append(item)
            if len(rows) == chunk_rows:
                yield _frame(rows, first_row)
                first_row += len(rows)
                rows = []
    if rows:
        yield _frame(rows, first_row)


def _page_items(path: Path) -> list[dict[str, str | None]]:
    try:  # numbers stay exactly as the source wrote them (no float rounding of money)
        doc = json.loads(path.read_bytes(), parse_int=str, parse_float=str, parse_constant=str)
    except (OSError, ValueError) as err:
        raise SourceError(f"{path.name}: cannot read landed page: {err}") from None
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise SourceError(f"{path.name}: no 'items' list; not a landed API page")
    if bad := next((n for n, item in enumerate(items, 1) if not isinstance(item, dict)), None):
        raise SourceError(f"{path.name}: item {bad} is not a JSON object")
    return [{k: _raw_text(v) for k, v in item.items()} for item in items]


def _raw_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):  # items should be flat; keep nested data as JSON text
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _frame(rows: list[dict[str, str | None]], first_row: int) -> pd.DataFrame:
    """Columns are the keys seen in this chunk, in first-seen order; missing keys are None."""
    columns = [k for k in dict.fromkeys(k for row in rows for k in row) if k != ROW_COLUMN]
    index = pd.RangeIndex(len(rows))
    frame = pd.DataFrame({c: [row.get(c) for row in rows] for c in columns}, index=index,
                         dtype=object)
    frame.insert(0, ROW_COLUMN, range(first_row, first_row + len(rows)))
    return frame
