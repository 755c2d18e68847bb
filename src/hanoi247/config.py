"""Where a node keeps its state, and what it knows about itself.

A node is configured by its data directory (``HANOI247_DATA_DIR``): ``node.json`` holds
its State code, kind, public URL and the secretariat's pinned key; ``keys/`` holds its
private keys; ``node.sqlite3`` is its embedded database unless ``DATABASE_URL`` says
otherwise. Environment variables override ``node.json`` so that several stateless web
processes can share one configuration.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def data_dir() -> Path:
    return Path(os.environ.get("HANOI247_DATA_DIR", "var/node")).resolve()


def _secret(name: str) -> str | None:
    """An environment value, or the contents of the file named by NAME_FILE."""
    if value := os.environ.get(name):
        return value
    if path := os.environ.get(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return None


@dataclass(frozen=True)
class NodeConfig:
    state: str = "XXX"
    kind: str = "node"  # "node" or "secretariat"
    base_url: str = "http://127.0.0.1:8000"
    directory_url: str = ""
    secretariat_key: dict[str, Any] = field(default_factory=dict)
    # This State's own deadlines per request type, published in its directory entry.
    deadlines: dict[str, Any] = field(default_factory=dict)
    # This State's guide to asking it for help, published in its directory entry
    # (directory/guides.py says what it holds).
    guide: dict[str, Any] = field(default_factory=dict)

    @property
    def is_secretariat(self) -> bool:
        return self.kind == "secretariat"


def load_node_config() -> NodeConfig:
    path = data_dir() / "node.json"
    raw: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    env = {
        "state": os.environ.get("HANOI247_STATE"),
        "kind": os.environ.get("HANOI247_NODE_KIND"),
        "base_url": os.environ.get("HANOI247_BASE_URL"),
        "directory_url": os.environ.get("HANOI247_DIRECTORY_URL"),
    }
    raw.update({k: v for k, v in env.items() if v})
    if key := _secret("HANOI247_SECRETARIAT_KEY"):
        raw["secretariat_key"] = json.loads(key)
    return NodeConfig(**{k: raw[k] for k in NodeConfig.__dataclass_fields__ if k in raw})


def write_node_config(config: NodeConfig, directory: Path | None = None) -> None:
    target = (directory or data_dir()) / "node.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(config.__dict__, indent=2) + "\n")


def secret_key() -> str:
    if value := _secret("DJANGO_SECRET_KEY"):
        return value
    path = data_dir() / "secret_key"
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()
