"""A real network of node processes on loopback, started the way `hanoi247 demo` starts it.

On the PostgreSQL run (DATABASE_URL=postgres://…) each node gets its own throw-away
PostgreSQL database; otherwise each node has its embedded SQLite file.
"""

from __future__ import annotations

import os
import random
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hanoi247.demo import Network


def free_port_block(count: int) -> int:
    for _ in range(200):
        base = random.randint(20000, 40000)
        try:
            for port in range(base, base + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free block of ports on loopback")


def _pg_urls(states: list[str]) -> tuple[dict[str, str], list[str]]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return {}, []
    import psycopg

    server = url.rsplit("/", 1)[0]
    names = {s: f"h247_e2e_{uuid.uuid4().hex[:8]}_{s.lower()}" for s in states}
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        for name in names.values():
            conn.execute(f'CREATE DATABASE "{name}"')
    return {s: f"{server}/{n}" for s, n in names.items()}, list(names.values())


def _pg_drop(names: list[str]) -> None:
    if not names:
        return
    import psycopg

    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_network(tmp_path: Any, states: list[str], env: dict[str, str] | None = None) -> tuple[Network, list[str]]:
    urls, created = _pg_urls(["UNO", *states])
    net = Network(states, base_port=free_port_block(len(states) + 1), data_dir=tmp_path, database_urls=urls, env=env)
    try:
        net.prepare()
        net.start()
    except Exception:
        net.stop()
        _pg_drop(created)
        raise
    return net, created


@pytest.fixture(scope="session")
def live_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """Secretariat + VNM + FRA as separate processes (shared by the e2e tests)."""
    net, created = start_network(tmp_path_factory.mktemp("network"), ["VNM", "FRA"])
    yield net
    net.stop()
    _pg_drop(created)


def api(net: Network, state: str) -> httpx.Client:
    node = net.node(state)
    return httpx.Client(
        base_url=node.url + "/api/v1", timeout=10, headers={"Authorization": f"Bearer {node.login['api_token']}"}
    )
