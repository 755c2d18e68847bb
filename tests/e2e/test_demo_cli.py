"""`hanoi247 demo` as a person runs it: starts, prints URLs and log-ins, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hanoi247.demo import free_port_block

pytestmark = pytest.mark.network


def test_demo_starts_describes_itself_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port_block(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANOI247_") and k != "DATABASE_URL"}
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hanoi247.cli",
            "demo",
            "--nodes",
            "VNM,FRA",
            "--base-port",
            str(port),
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert demo.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        output = "".join(lines)
        assert "Press Ctrl-C" in output, output
        assert f"http://127.0.0.1:{port + 1}/" in output and "Viet Nam" in output and "France" in output
        assert "vnm.officer" in output and "fra.central" in output and "hanoi247-demo" in output

        described = json.loads((tmp_path / "network.json").read_text())
        assert [(n["state"], n["base_url"]) for n in described["nodes"]] == [
            ("VNM", f"http://127.0.0.1:{port + 1}"),
            ("FRA", f"http://127.0.0.1:{port + 2}"),
        ]
        for node in described["nodes"]:
            health = httpx.get(node["base_url"] + "/healthz").json()
            assert health == {"status": "ok", "state": node["state"], "kind": "node"}
            listed = httpx.get(
                node["base_url"] + "/api/v1/requests", headers={"Authorization": f"Bearer {node['api_token']}"}
            )
            assert listed.status_code == 200
        for state in ("vnm", "fra", "uno"):
            assert (tmp_path / state / "node.sqlite3").exists() and (tmp_path / state / "keys" / "sig.jwk").exists()
    finally:
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, rest
    assert "Stopped." in rest
    for offset in range(3):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port + offset}/healthz", timeout=2)


def test_demo_refuses_bad_options(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hanoi247.cli", "demo", "--nodes", "VNM,ATLANTIS", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "ISO 3166" in done.stderr
