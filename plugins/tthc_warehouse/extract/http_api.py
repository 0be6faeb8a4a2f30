"""A province's paged HTTP JSON API: every page landed byte for byte, then read back as raw chunks.

Contract: ``GET {base_url}{path}?updated_from=ISO&updated_to=ISO&page=N&page_size=M`` answers
``application/json`` ``{"page": N, "total_pages": T, "items": [{...}, ...]}``. Pages are written
to ``dest/page-00001.json``, ... through a hidden temporary name, so a page file that exists is
complete and a rerun resumes at the first missing page. Credentials never reach logs or errors.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import json
import logging
import os
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tthc_warehouse.extract.base import CHUNK_ROWS, ROW_COLUMN, SourceError, TransientSourceError

log = logging.getLogger(__name__)

PAGE_KEYS = ("page", "total_pages", "items")
# Connection extras that tune the feed, with the type each is coerced to (extras are often text).
EXTRA_FIELDS: dict[str, type] = {"token": str, "page_size": int, "timeout": float,
                                 "max_retries": int, "backoff_base": float, "backoff_max": float}


class HttpSourceError(SourceError):
    """The feed cannot be landed: a refused response, or retries exhausted (names URL and page)."""


class HttpUnavailable(HttpSourceError, TransientSourceError):
    """Retries on 5xx, timeouts or refused connections ran out: worth another try later."""


class _Transient(Exception):
    """A failure worth retrying; ``wait`` is the server's Retry-After in seconds, if any."""

    def __init__(self, message: str, wait: float | None = None):
        super().__init__(message)
        self.wait = wait


class _Refused(Exception):
    """A response that retrying cannot fix (bad status, not JSON, truncated, wrong shape)."""


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
        parts = urllib.parse.urlsplit(self.base_url.strip())
        if parts.username is not None:  # user:pw@host would be sent nowhere and logged everywhere
            self.login = self.login or urllib.parse.unquote(parts.username)
            self.password = self.password or urllib.parse.unquote(parts.password or "") or None
            parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
        self.base_url = urllib.parse.urlunsplit(parts).rstrip("/")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            shown = redact_url(self.base_url)
            raise ValueError(f"base_url must look like https://host[:port], got {shown!r}")
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
        fields.update(kw)
        return cls(**fields)

    def page_url(self, updated_from: datetime, updated_to: datetime, page: int) -> str:
        """The URL of one page of the window (carries no credentials)."""
        query = urllib.parse.urlencode({"updated_from": updated_from.isoformat(),
                                        "updated_to": updated_to.isoformat(),
                                        "page": page, "page_size": self.page_size})
        return f"{self.base_url}/{self.path.lstrip('/')}?{query}"

    def headers(self) -> dict[str, str]:
        """Request headers, with Bearer auth when a token is set, else Basic when login is."""
        headers = {"Accept": "application/json", "User-Agent": "tthc-warehouse"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.login:
            pair = f"{self.login}:{self.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return headers

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
    base = host if "://" in host else f"{conn.schema or 'https'}://{host}"
    parts = urllib.parse.urlsplit(base)
    if conn.port and parts.port is None:
        parts = parts._replace(netloc=f"{parts.netloc}:{conn.port}")
    return urllib.parse.urlunsplit(parts)


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@`` (credentials travel in headers)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


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
    while page <= total:
        path = dest / f"page-{page:05d}.json"
        url = feed.page_url(updated_from, updated_to, page)
        if path.exists():
            total = _landed_total(path, page)
            log.info("page %d already landed at %s; not fetched again", page, path)
        else:
            body, total = _fetch_with_retries(feed, url, page, sleep, rng)
            _write_atomically(path, body)
            log.info("landed page %d of %d from %s (%d bytes)", page, total, redact_url(url),
                     len(body))
        paths.append(path)
        page += 1
    return paths


def _landed_total(path: Path, page: int) -> int:
    try:
        return _check_page(path.read_bytes(), page)
    except _Refused as err:
        raise HttpSourceError(f"{path} is not a valid landed page ({err}); delete it so the "
                              "next run fetches it again") from None


def _fetch_with_retries(feed: HttpFeed, url: str, page: int, sleep: Callable[[float], None],
                        rng: random.Random | None) -> tuple[bytes, int]:
    last: _Transient | None = None
    for attempt in range(feed.max_retries + 1):
        try:
            return _fetch_once(feed, url, page)
        except _Refused as err:
            raise _failure(feed, url, page, str(err)) from None
        except _Transient as err:
            last = err
        if attempt < feed.max_retries:
            delay = last.wait if last.wait is not None else backoff_delay(feed, attempt, rng)
            log.warning("page %d of %s: %s; retry %d of %d in %.1f s", page, redact_url(url),
                        feed.scrub(str(last)), attempt + 1, feed.max_retries, delay)
            sleep(delay)
    raise _failure(feed, url, page, f"gave up after {feed.max_retries + 1} attempt(s); "
                                    f"last error: {last}", HttpUnavailable)


def _failure(feed: HttpFeed, url: str, page: int, problem: str,
             kind: type[HttpSourceError] = HttpSourceError) -> HttpSourceError:
    return kind(feed.scrub(f"page {page} of {redact_url(url)}: {problem}"))


def _fetch_once(feed: HttpFeed, url: str, page: int) -> tuple[bytes, int]:
    request = urllib.request.Request(url, headers=feed.headers())
    opener = urllib.request.build_opener(_RefuseRedirect())  # honours *_proxy variables
    try:
        with opener.open(request, timeout=feed.timeout) as response:
            body = _read_body(response)
    except urllib.error.HTTPError as err:
        with err:
            raise _status_error(err) from None
    except (urllib.error.URLError, OSError) as err:  # refused, reset, DNS, timeouts
        reason = err.reason if isinstance(err, urllib.error.URLError) else err
        raise _Transient(f"{type(reason).__name__}: {reason}") from None
    return body, _check_page(body, page)


class _RefuseRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed, so credentials are never forwarded to another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _status_error(err: urllib.error.HTTPError) -> Exception:
    """The exception for an error status: 429 and 5xx are transient, the rest refused."""
    if err.code == 429:
        return _Transient("HTTP 429 Too Many Requests",
                          wait=parse_retry_after(err.headers.get("Retry-After")))
    message = f"HTTP {err.code} {err.reason}: {_snippet(err.read(200))}"
    if err.code >= 500:
        return _Transient(message)
    if err.code in (401, 403):
        message += " (check the connection's login/password or token)"
    elif err.code < 400:  # a redirect: following it could hand the credentials to another host
        message += " (redirects are not followed: point the connection at the final URL)"
    return _Refused(message)


def _read_body(response: http.client.HTTPResponse) -> bytes:
    content_type = response.headers.get_content_type()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise _Refused(f"expected JSON but Content-Type is {response.headers['Content-Type']!r}: "
                       f"{_snippet(response.read(200))}")
    declared = response.headers.get("Content-Length", "")
    try:
        body = response.read()
    except http.client.IncompleteRead as err:
        raise _Refused(f"truncated body: received {len(err.partial)} of {declared} bytes") from None
    if declared.isdigit() and len(body) < int(declared):
        raise _Refused(f"truncated body: received {len(body)} of {declared} bytes")
    return body


def _check_page(body: bytes, page: int) -> int:
    """``total_pages`` of a page body that has the contract's shape, else ``_Refused``."""
    try:
        doc = json.loads(body)
    except ValueError as err:
        raise _Refused(f"body is not valid JSON (truncated?): {err}") from None
    missing = [k for k in PAGE_KEYS if k not in doc] if isinstance(doc, dict) else list(PAGE_KEYS)
    if missing:
        raise _Refused(f"JSON lacks key(s) {', '.join(missing)}; expected an object with "
                       "page, total_pages and items")
    total = doc["total_pages"]
    if type(total) is not int or total < 0 or not isinstance(doc["items"], list):
        raise _Refused("total_pages must be a whole number and items a list")
    if doc["page"] != page:
        raise _Refused(f"asked for page {page} but the server answered page {doc['page']!r}")
    return total


def _snippet(raw: bytes) -> str:
    return raw[:200].decode("utf-8", errors="replace").strip()


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
