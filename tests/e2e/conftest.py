"""A real network of node processes on loopback, started the way `hanoi247 demo` starts it.

On the PostgreSQL run (DATABASE_URL=postgres://…) each node gets its own throw-away
PostgreSQL database; otherwise each node has its embedded SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hanoi247.demo import Network, drop_databases, free_port_block, throwaway_databases


def start_network(
    tmp_path: Any, states: list[str], env: dict[str, str] | None = None
) -> tuple[Network, dict[str, str]]:
    urls = throwaway_databases(["UNO", *states], "h247_e2e")
    net = Network(states, base_port=free_port_block(len(states) + 1), data_dir=tmp_path, database_urls=urls, env=env)
    try:
        net.prepare()
        net.start()
    except Exception:
        net.stop()
        drop_databases(urls)
        raise
    return net, urls


@pytest.fixture(scope="session")
def live_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """Secretariat + VNM + FRA as separate processes (shared by the e2e tests)."""
    net, created = start_network(tmp_path_factory.mktemp("network"), ["VNM", "FRA"])
    yield net
    net.stop()
    drop_databases(created)


def api(net: Network, state: str) -> httpx.Client:
    node = net.node(state)
    return httpx.Client(
        base_url=node.url + "/api/v1", timeout=10, headers={"Authorization": f"Bearer {node.login['api_token']}"}
    )
