"""A real paged JSON API on 127.0.0.1: a simulated province feed for the demo, scripted faults for tests.

It speaks the province feed contract: ``GET <path>?updated_from=ISO&updated_to=ISO&page=N&
page_size=M`` answers ``{"page": N, "total_pages": T, "items": [...]}`` with the records whose
change timestamp (``updated_field``, default ``source_updated_at``) falls in
``[updated_from, updated_to)``. Faults are scripted per page as a
queue of actions, one consumed per request for that page (``"*"`` applies to any page); when a
queue is empty the page is served normally. Actions:

- ``"ok"``: serve the page;
- ``"500"``, ``"503"``, ``"401"``, any status: answer that status with a small JSON error body;
- ``"429"`` or ``"429:<Retry-After>"``: too many requests, with that header value if given;
- ``"delay:<seconds>"``: wait, then serve the page (to trip a client timeout);
- ``"truncate"``: announce the full Content-Length, send half the body, close;
- ``"html"``: a 200 with ``text/html``; ``"badjson"``: a 200 JSON body that does not parse;
- ``"nokeys"``: a 200 JSON object without page/total_pages/items;
- ``"reset"``: close the connection without answering.
"""

from __future__ import annotations

import base64
import json
import math
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ANY_PAGE = "*"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


@dataclass
class RecordedRequest:
    """One request as the server saw it; credentials are reduced to the auth scheme offered."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    auth: str | None  # "basic", "bearer", another scheme, or None
    page: int | None
    action: str
    status: int | None = None  # None when the connection was closed without an answer
    body: bytes = b""  # exactly what was sent (before any truncation)


class PagedApiServer:
    """A threaded HTTP server serving ``records`` in pages of at most ``page_size``."""

    def __init__(self, records: Iterable[dict[str, Any]], page_size: int,
                 login: str | None = None, password: str | None = None,
                 token: str | None = None, faults: dict[Any, list[str]] | None = None,
                 path: str | None = None, updated_field: str = "source_updated_at"):
        self.records = list(records)
        self.page_size = page_size
        self.login, self.password, self.token = login, password, token
        self.path = path  # None: any path serves the feed
        self.updated_field = updated_field  # the record's change timestamp, in the source's naming
        self._faults: dict[Any, list[str]] = {k: list(v) for k, v in (faults or {}).items()}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, ``http://127.0.0.1:<port>`` (no trailing slash)."""
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def pages_requested(self) -> list[int | None]:
        """The page number of each request, in order."""
        return [r.page for r in self.requests]

    def add_faults(self, page: int | str, *actions: str) -> None:
        """Queue ``actions`` for the next requests of ``page`` (or ``"*"`` for any page)."""
        with self._lock:
            self._faults.setdefault(page, []).extend(actions)

    def clear_faults(self) -> None:
        """Drop every queued fault: all pages are served normally from now on."""
        with self._lock:
            self._faults.clear()

    def start(self) -> PagedApiServer:
        """Listen on an ephemeral port of 127.0.0.1 and serve in a background thread."""
        if self._httpd is None:
            self._stopping.clear()
            self._httpd = _Server(("127.0.0.1", 0), _Handler)
            self._httpd.api = self
            self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                            name="paged-api", daemon=True)  # quick stop()
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; delayed answers in flight are cut short."""
        if self._httpd is not None:
            self._stopping.set()
            self._httpd.shutdown()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._httpd, self._thread = None, None

    def __enter__(self) -> PagedApiServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def page_body(self, query: dict[str, str]) -> bytes:
        """The JSON body of the page ``query`` asks for (what an ``ok`` answer sends)."""
        page = int(query.get("page", "1"))
        size = min(int(query.get("page_size", self.page_size)), self.page_size)
        if page < 1 or size < 1:
            raise ValueError("page and page_size must be >= 1")
        low, high = _when(query.get("updated_from")), _when(query.get("updated_to"))
        selected = [r for r in self.records if _in_window(r.get(self.updated_field), low, high)]
        items = selected[(page - 1) * size: page * size]
        doc = {"page": page, "total_pages": math.ceil(len(selected) / size), "items": items}
        return json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8")

    def _authorized(self, header: str | None) -> bool:
        if self.login is None and self.token is None:
            return True
        if self.token is not None and header == f"Bearer {self.token}":
            return True
        pair = f"{self.login}:{self.password or ''}".encode()
        return self.login is not None and header == "Basic " + base64.b64encode(pair).decode()

    def _next_action(self, page: int | None) -> str:
        with self._lock:
            for key in (page, ANY_PAGE):
                if self._faults.get(key):
                    return self._faults[key].pop(0)
        return "ok"

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _handle(self, handler: _Handler) -> None:
        """Answer one GET: record it, check path and auth, then apply its scripted action."""
        url = urlsplit(handler.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        page = int(query["page"]) if query.get("page", "").isdigit() else None
        auth = handler.headers.get("Authorization")
        record = RecordedRequest(
            path=url.path, query=query, page=page, action="ok",
            headers={k: v for k, v in handler.headers.items() if k.lower() not in SECRET_HEADERS},
            auth=auth.split(" ", 1)[0].lower() if auth else None)
        self._record(record)
        if self.path is not None and url.path != self.path:
            return _send(handler, record, 404, _error_body(f"no feed at {url.path}"))
        if not self._authorized(auth):
            return _send(handler, record, 401, _error_body("authentication required"),
                         extra={"WWW-Authenticate": 'Basic realm="feed"'})
        record.action = self._next_action(page)
        self._perform(handler, record, query)

    def _perform(self, handler: _Handler, record: RecordedRequest, query: dict[str, str]) -> None:
        """Carry out ``record.action`` (see the module docstring)."""
        action, _, arg = record.action.partition(":")
        if action == "reset":
            handler.close_connection = True
            return
        if action.isdigit():
            extra = {"Retry-After": arg} if action == "429" and arg else {}
            body = _error_body(f"scripted {action}")
            return _send(handler, record, int(action), body, extra=extra)
        if action == "delay" and self._stopping.wait(float(arg or 1)):
            return  # stopping: the client gave up long ago
        try:
            body = self.page_body(query)
        except ValueError as err:
            return _send(handler, record, 400, _error_body(f"bad query: {err}"))
        if action == "html":
            return _send(handler, record, 200, b"<html><body>Maintenance</body></html>",
                         content_type="text/html; charset=utf-8")
        body = {"badjson": body[: len(body) // 2], "nokeys": b'{"data": []}'}.get(action, body)
        _send(handler, record, 200, body, truncate=action == "truncate")


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a delayed answer must not hold up stop()
    api: PagedApiServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hung up (expected after timeouts); report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.api._handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request log on the server object is what tests read."""


def _send(handler: _Handler, record: RecordedRequest, status: int, body: bytes, *,
          content_type: str = "application/json", extra: dict[str, str] | None = None,
          truncate: bool = False) -> None:
    """Answer with ``body``; ``truncate`` announces it all but sends half, then hangs up."""
    record.status, record.body = status, body
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (extra or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body[: len(body) // 2] if truncate else body)
    handler.wfile.flush()
    handler.close_connection = True


def _error_body(message: str) -> bytes:
    return json.dumps({"error": message}).encode("utf-8")


def _when(value: Any) -> datetime | None:
    """A timestamp from ISO text or a datetime; zones are dropped (feeds use local wall time)."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=None)


def _in_window(value: Any, low: datetime | None, high: datetime | None) -> bool:
    if low is None and high is None:
        return True
    moment = _when(value)
    return moment is not None and (low is None or low <= moment) and (high is None or moment < high)
