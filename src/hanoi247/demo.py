"""A local network of nodes on this machine: the secretariat plus one node per State.

Used by ``hanoi247 demo`` and by the multi-node tests and benchmarks, so that what a person
tries is what the tests check.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from hanoi247.cooperation.schemas import REQUEST_TYPES
from hanoi247.states import SECRETARIAT

# A complete Art. 42 request, for the demo's walk-through, the tests and the benchmarks.
EXAMPLE_PRESERVATION: dict[str, Any] = REQUEST_TYPES["preservation"].examples["complete"]


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free ports on loopback."""
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


def throwaway_databases(states: list[str], prefix: str) -> dict[str, str]:
    """With DATABASE_URL=postgres://…, one new PostgreSQL database per node, by State;
    otherwise nothing (each node then has its SQLite file). Drop them with drop_databases."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return {}
    import psycopg

    server = url.rsplit("/", 1)[0]
    urls = {}
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        for state in states:
            name = f"{prefix}_{uuid.uuid4().hex[:8]}_{state.lower()}"
            conn.execute(f'CREATE DATABASE "{name}"')
            urls[state] = f"{server}/{name}"
    return urls


def drop_databases(urls: dict[str, str]) -> None:
    if not urls:
        return
    import psycopg

    server = next(iter(urls.values())).rsplit("/", 1)[0]
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        for url in urls.values():
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@dataclass
class Node:
    state: str
    port: int
    data_dir: Path
    database_url: str = ""
    process: subprocess.Popen[bytes] | None = None
    login: dict[str, Any] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        # A node is configured by its data directory alone: drop whatever the calling
        # process has (a test run sets HANOI247_STATE for itself, for instance).
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"} and not k.startswith("HANOI247_")
        }
        env["HANOI247_DATA_DIR"] = str(self.data_dir)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the node's database directly (tests and benchmarks watching a running node
        without starting a Django process each time). ``?`` placeholders."""
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as conn:
                return list(conn.execute(query.replace("?", "%s"), params).fetchall())
        import sqlite3

        with contextlib.closing(sqlite3.connect(self.data_dir / "node.sqlite3", timeout=30)) as conn:
            return list(conn.execute(query, params).fetchall())

    def run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "hanoi247.cli", *args],
            env=self.env(),
            capture_output=True,
            text=True,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{self.state}: hanoi247 {' '.join(args)} failed:\n{done.stderr}{done.stdout}")
        return done.stdout


class Network:
    def __init__(
        self,
        states: list[str],
        *,
        base_port: int,
        data_dir: Path,
        database_urls: dict[str, str] | None = None,
        serve_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        urls, extra = database_urls or {}, env or {}
        self.data_dir = data_dir.resolve()
        self.secretariat = Node(
            SECRETARIAT, base_port, self.data_dir / SECRETARIAT.lower(), urls.get(SECRETARIAT, ""), extra_env=extra
        )
        self.nodes = [
            Node(s, base_port + i + 1, self.data_dir / s.lower(), urls.get(s, ""), extra_env=extra)
            for i, s in enumerate(states)
        ]
        self.serve_args = serve_args

    @property
    def all(self) -> list[Node]:
        return [self.secretariat, *self.nodes]

    def node(self, state: str) -> Node:
        return next(n for n in self.nodes if n.state == state)

    def prepare(self) -> None:
        """Keys, databases, directory and demo users. Idempotent."""
        from hanoi247.federation import keys

        self.data_dir.mkdir(parents=True, exist_ok=True)
        sec = self.secretariat
        # The secretariat's key comes first: every node pins it at set-up.
        root = self.data_dir / "secretariat-key.json"
        root.write_text(json.dumps(keys.public_jwk(keys.generate(sec.data_dir)["sig"])))

        def setup(node: Node) -> None:
            if node is sec:
                node.run("setup", "--state", SECRETARIAT, "--base-url", sec.url, "--secretariat", "--seed-demo")
                return
            contact = {
                "24/7": {
                    "name": f"24/7 point of contact {node.state}",
                    "email": f"247@{node.state.lower()}.demo.invalid",
                }
            }
            node.run(
                "setup",
                "--state",
                node.state,
                "--base-url",
                node.url,
                "--directory-url",
                sec.url,
                "--secretariat-key-file",
                str(root),
                "--contact",
                json.dumps(contact),
                "--seed-demo",
            )

        with ThreadPoolExecutor(max_workers=len(self.all)) as pool:
            list(pool.map(setup, self.all))
        signed = self.data_dir / "directory.jws"
        sec.run(
            "directory",
            "register",
            "--publish",
            "--out",
            str(signed),
            *[str(n.data_dir / "entry.json") for n in self.nodes],
        )
        # Handed over as a file, as to a node off-line; running nodes then fetch it over HTTP.
        with ThreadPoolExecutor(max_workers=len(self.all)) as pool:
            steps: list[Callable[[], str]] = [
                partial(n.run, "directory", "sync", "--file", str(signed)) for n in self.nodes
            ]
            # The secretariat's treaty register starts from the signatures shipped with the code.
            steps.append(partial(sec.run, "treaty", "import", "--shipped"))
            list(pool.map(lambda step: step(), steps))
        for node in self.all:
            node.login = json.loads((node.data_dir / "demo-logins.json").read_text())

    def start(self, timeout: float = 60.0) -> None:
        self._spawn(self.secretariat)
        self._wait(self.secretariat, timeout)
        for node in self.nodes:
            self._spawn(node)
        for node in self.nodes:
            self._wait(node, timeout)

    def _spawn(self, node: Node) -> None:
        log = open(node.data_dir / "serve.log", "ab")  # noqa: SIM115 — owned by the process
        node.process = subprocess.Popen(
            [sys.executable, "-m", "hanoi247.cli", "serve", "--port", str(node.port), *self.serve_args],
            env=node.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait(self, node: Node, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if node.process and node.process.poll() is not None:
                raise RuntimeError(f"{node.state} exited; see {node.data_dir / 'serve.log'}")
            try:
                if httpx.get(node.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{node.state} did not answer on {node.url} within {timeout:.0f}s")

    def stop(self) -> None:
        for node in self.all:
            if node.process and node.process.poll() is None:
                os.killpg(node.process.pid, signal.SIGTERM)
        for node in self.all:
            self._reap(node)

    def stop_node(self, node: Node) -> None:
        """Stop one node (as an outage would), and wait until its port is free again."""
        if node.process and node.process.poll() is None:
            os.killpg(node.process.pid, signal.SIGTERM)
        self._reap(node)

    def kill_node(self, node: Node) -> None:
        """Kill one node's processes at once (kill -9 of its whole process group: web
        processes and delivery worker), as a crash would, and wait until they are gone."""
        if node.process and node.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, signal.SIGKILL)
        self._reap(node)

    def start_node(self, node: Node, timeout: float = 60.0) -> None:
        """Start a stopped or killed node again and wait until it answers."""
        self._spawn(node)
        self._wait(node, timeout)

    @staticmethod
    def _reap(node: Node, timeout: float = 15.0) -> None:
        """Wait for the node's whole process group (web workers, delivery worker) to end."""
        if node.process is None:
            return
        deadline = time.monotonic() + timeout
        with contextlib.suppress(subprocess.TimeoutExpired):
            node.process.wait(timeout=timeout)
        while time.monotonic() < deadline:
            try:
                os.killpg(node.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.process.pid, signal.SIGKILL)
        node.process.wait()

    def describe(self) -> dict[str, Any]:
        return {
            "secretariat": {"state": SECRETARIAT, "base_url": self.secretariat.url},
            "nodes": [
                {
                    "state": n.state,
                    "base_url": n.url,
                    "api_token": n.login.get("api_token", ""),
                    "users": n.login.get("users", []),
                }
                for n in self.nodes
            ],
        }

    def write_description(self) -> Path:
        path = self.data_dir / "network.json"
        path.write_text(json.dumps(self.describe(), indent=2) + "\n")
        path.chmod(0o600)
        return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hanoi247 demo", description="Run a local demo network.")
    parser.add_argument("--nodes", default="VNM,FRA,BRA", help="comma-separated ISO 3166 alpha-3 codes")
    parser.add_argument("--base-port", type=int, default=8400)
    parser.add_argument("--data-dir", type=Path, default=Path(".demo"))
    args = parser.parse_args(argv)
    states = [s.strip().upper() for s in args.nodes.split(",") if s.strip()]
    from hanoi247.states import is_state_code

    bad = [s for s in states if not is_state_code(s) or s == SECRETARIAT]
    if bad or len(set(states)) != len(states) or len(states) < 2:
        parser.error(
            f"--nodes needs two or more distinct ISO 3166 alpha-3 codes (bad: {', '.join(bad) or 'duplicates'})"
        )
    net = Network(states, base_port=args.base_port, data_dir=args.data_dir)
    print(f"Preparing {len(states)} nodes and the secretariat in {net.data_dir} …", flush=True)
    net.prepare()
    stopping = False

    def _stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        net.start()
        path = net.write_description()
        _print_welcome(net, path)
        while not stopping:
            for node in net.all:
                if node.process and node.process.poll() is not None:
                    print(f"{node.state} stopped unexpectedly; see {node.data_dir / 'serve.log'}", flush=True)
                    stopping = True
            time.sleep(0.3)
    finally:
        print("\nStopping the demo network …", flush=True)
        net.stop()
        print("Stopped.", flush=True)
    return 0


def _print_welcome(net: Network, path: Path) -> None:
    from hanoi247.states import state_name

    lines = ["", "Hanoi 24/7 demo network is running.", ""]
    lines.append(f"  Secretariat (directory)  {net.secretariat.url}/network/")
    for node in net.nodes:
        lines.append(f"  {state_name(node.state):<24} {node.url}/")
    lines += ["", "Log in (password, then the 6-digit code of the user's authenticator):"]
    for node in net.all:
        for user in node.login.get("users", []):
            lines.append(
                f"  {node.url:<24} {user['username']:<22} {user['role']:<18} TOTP secret {user['totp_secret']}"
            )
    first = net.nodes[0]
    password, officer = first.login["users"][0]["password"], first.login["users"][0]["username"]
    lines += [
        "",
        f"  Password for every demo user: {password}",
        f"  Current code without a phone: hanoi247 --data-dir {first.data_dir} totp {officer}",
        f"  API tokens of the demo 24/7 officers: {path}",
        "",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
