"""Serve the HTTP provinces' simulated API stores on 127.0.0.1 and point their connections at them."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from tthc_warehouse.extract.feeds import ProvinceFeed, load_feeds, load_mapping
from tthc_warehouse.simulator.api_server import PagedApiServer
from tthc_warehouse.simulator.feeds_out import HTTP_STORE, http_folder


def serve_http_feeds(inbox: Path, feeds: list[ProvinceFeed] | None = None) -> list[PagedApiServer]:
    """Start one server per HTTP dossier feed; export ``AIRFLOW_CONN_<ID>`` with fresh credentials."""
    servers = []
    for feed in feeds if feeds is not None else load_feeds():
        spec = feed.entities.get("dossier")
        if spec is None or spec.format != "http":
            continue
        store = inbox / http_folder(feed) / HTTP_STORE
        records = [json.loads(line) for line in store.read_text("utf-8").splitlines() if line]
        password = secrets.token_urlsafe(16)  # per run, never written anywhere
        updated_field = next((src for src, canon in load_mapping(spec.mapping).items()
                              if canon == "source_updated_at"), "source_updated_at")
        server = PagedApiServer(records, page_size=500, login="tthc", password=password,
                                updated_field=updated_field).start()
        port = int(server.url.rsplit(":", 1)[1])
        os.environ[f"AIRFLOW_CONN_{spec.options['conn_id'].upper()}"] = json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": port, "schema": "http",
             "login": "tthc", "password": password})
        servers.append(server)
    return servers
