"""Evidence throughput benchmark (not a test): ingest and node-to-node transfer of one file,
beside the stock tools doing the same work.

    python bench/evidence.py [--size 1G] [--dir /tmp] [--json]

On one file of ``--size`` bytes (default 1 GiB; ``--size 5G`` for the issue's large-file
case), in one run:

- our ingest: ``services.ingest`` (what an upload's finish and ``hanoi247 evidence import``
  run): one read pass that hashes (SHA-256) and encrypts (age, X25519) into the evidence
  store, timed inside a process configured as node FRA;
- the stock tools: ``sha256sum FILE`` followed by ``age -e -r <FRA's recipient>``;
- our upload over HTTP: the API's chunked upload (16 MiB chunks) and its finish (seal);
- our transfer: FRA sends the item to VNM as the answer to VNM's request, over HTTP; timed
  from the API call to the sender holding VNM's signed receipt, i.e. including VNM's
  verification (decrypt every chunk, hash, compare with the signed manifest).

Before each timed step dirty pages are flushed (``sync``), so that no step is throttled by
the kernel for the previous step's writes (this disk sustains about 0.33 GB/s), and the
source file is read once, so that every step starts with it in the page cache.

Memory: the peak resident set of the ingesting process, of the CLI tools, and of every
process of both nodes (sampled every 50 ms during upload and transfer).

Targets (issue #4): ingest ≥ 0.45 GB/s and ≥ 2x the two CLI tools in sequence; transfer
≥ 0.3 GB/s; resident memory under 300 MB throughout. GB = 10^9 bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from hanoi247.demo import EXAMPLE_PRESERVATION as COMPLETE
from hanoi247.demo import Network, Node, drop_databases, free_port_block, throwaway_databases

INGEST = """
import json, os, resource, sys, time
import django
django.setup()
from hanoi247.evidence import services
path = sys.argv[1]
with open(path, "rb") as src:
    t = time.perf_counter()
    item = services.ingest(src, user=None, title="bench", filename=os.path.basename(path), actor="bench")
    dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "id": str(item.pk), "sha256": item.sha256,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text[-1].upper() in units:
        return int(float(text[:-1]) * units[text[-1].upper()])
    return int(text)


def write_file(path: Path, size: int) -> str:
    hasher = hashlib.sha256()
    block = bytearray(os.urandom(4 << 20))
    with path.open("wb") as out:
        left, n = size, 0
        while left:
            block[:8] = n.to_bytes(8, "big")  # no two blocks alike
            piece = memoryview(block)[: min(len(block), left)]
            out.write(piece)
            hasher.update(piece)
            left -= len(piece)
            n += 1
    return hasher.hexdigest()


def settle(source: Path) -> None:
    """Start a timed step on equal terms: earlier writes flushed, the source file in the
    page cache (read once)."""
    os.sync()
    with source.open("rb") as src:
        while src.read(16 << 20):
            pass


def api(node: Node) -> httpx.Client:
    return httpx.Client(
        base_url=node.url + "/api/v1", timeout=300, headers={"Authorization": f"Bearer {node.login['api_token']}"}
    )


class RssSampler:
    """Peak resident memory of every process of the given process groups."""

    def __init__(self, pgids: list[int]) -> None:
        self.pgids = set(pgids)
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                    if int(stat[2]) not in self.pgids:
                        continue
                    rss = int(stat[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
                    cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:60]
                except (OSError, IndexError, ValueError):
                    continue
                key = f"{entry} {cmd}"
                self.peak[key] = max(self.peak.get(key, 0.0), rss)
            time.sleep(0.05)

    def max(self) -> float:
        return max(self.peak.values(), default=0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1G")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to put the file and the nodes (default: a temp dir)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    size = parse_size(args.size)
    if shutil.which("age") is None:
        print("the stock age command is needed (Debian package age)", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="h247-bench-evidence-", dir=args.dir))
    urls = throwaway_databases(["UNO", "VNM", "FRA"], "h247_bench")
    net = Network(
        ["VNM", "FRA"],
        base_port=free_port_block(3),
        data_dir=base / "net",
        database_urls=urls,
        serve_args=("--workers", "2"),
    )
    results: dict[str, Any] = {"size_bytes": size}
    try:
        print(f"preparing the network and a {size / 1e9:.2f} GB file in {base} …", file=sys.stderr, flush=True)
        net.prepare()
        net.start()
        vnm_node, fra_node = net.node("VNM"), net.node("FRA")
        vnm, fra = api(vnm_node), api(fra_node)
        source = base / "evidence.bin"
        digest = write_file(source, size)
        recipient = fra_node.run("evidence", "recipient").strip()

        # Before each timed step, dirty pages go to disk: this disk sustains ~0.33 GB/s, and a
        # step that starts with gigabytes of the previous step's writes still in the page
        # cache would be throttled to that speed by the kernel, whatever it does itself.
        settle(source)
        # Our ingest, in a process configured as FRA.
        done = subprocess.run(
            [sys.executable, "-c", INGEST, str(source)],
            env={**fra_node.env(), "DJANGO_SETTINGS_MODULE": "hanoi247.settings"},
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(done.stderr)
        ingest = json.loads(done.stdout.strip().splitlines()[-1])
        assert ingest["sha256"] == digest
        results["ingest"] = {"seconds": ingest["seconds"], "rss_mb": ingest["rss_mb"]}

        # The stock tools, in sequence.
        settle(source)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        subprocess.run(["sha256sum", str(source)], check=True, capture_output=True)
        t_sha = time.perf_counter() - t
        subprocess.run(["age", "-e", "-r", recipient, "-o", str(base / "cli.age"), str(source)], check=True)
        t_cli = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        results["cli"] = {"seconds": t_cli, "sha256sum_seconds": t_sha, "rss_mb": max(before, after) / 1024}
        (base / "cli.age").unlink()

        pgids = [n.process.pid for n in net.nodes if n.process]
        settle(source)
        # Our upload over HTTP (chunked API) and its seal.
        with RssSampler(pgids) as upload_mem:
            t = time.perf_counter()
            started = fra.post("/evidence/uploads", json={"title": "bench", "filename": source.name, "size": size})
            uid = started.json()["id"]
            with source.open("rb") as src:
                offset = 0
                while block := src.read(16 << 20):
                    response = fra.put(f"/evidence/uploads/{uid}", params={"offset": offset}, content=block)
                    response.raise_for_status()
                    offset += len(block)
            item = fra.post(f"/evidence/uploads/{uid}/finish").json()
            t_upload = time.perf_counter() - t
        assert item["sha256"] == digest, item
        results["upload_http"] = {"seconds": t_upload, "rss_mb": upload_mem.max()}

        # A request from VNM to FRA, answered with the evidence.
        rid = vnm.post("/requests", json={"type": "preservation", "recipient": "FRA", **COMPLETE}).json()["id"]
        vnm.post(f"/requests/{rid}/submit")
        deadline = time.monotonic() + 30
        while fra.get(f"/requests/{rid}").status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the request did not reach FRA")
            time.sleep(0.1)
        os.sync()
        with RssSampler(pgids) as transfer_mem:
            t = time.perf_counter()
            tid = fra.post(f"/evidence/{item['id']}/transfers", json={"request_id": rid}).json()["id"]
            while (state := fra.get(f"/evidence/transfers/{tid}").json())["status"] == "sending":
                time.sleep(0.02)
            t_transfer = time.perf_counter() - t
        if state["status"] != "verified":
            raise RuntimeError(f"transfer ended {state['status']}: {state['error']}")
        held = vnm.get("/evidence", params={"request_id": rid}).json()
        assert held and held[0]["sha256"] == digest
        results["transfer"] = {"seconds": t_transfer, "rss_mb": transfer_mem.max()}
        results["node_processes_peak_rss_mb"] = {
            k: round(v, 1)
            for k, v in sorted({**upload_mem.peak, **transfer_mem.peak}.items(), key=lambda kv: -kv[1])[:6]
        }
        if os.environ.get("BENCH_KEEP_LOGS"):
            for n in net.nodes:
                print(n.state, (n.data_dir / "serve.log").read_text()[-3000:], file=sys.stderr)
    finally:
        net.stop()
        drop_databases(urls)
        shutil.rmtree(base, ignore_errors=True)

    report(results, as_json=args.json)
    return 0


def report(r: dict[str, Any], *, as_json: bool) -> None:
    size = r["size_bytes"]
    rate = {k: size / r[k]["seconds"] / 1e9 for k in ("ingest", "cli", "upload_http", "transfer")}
    ratio = r["cli"]["seconds"] / r["ingest"]["seconds"]
    peak = max(r[k]["rss_mb"] for k in ("ingest", "upload_http", "transfer"))
    checks = {
        "ingest >= 0.45 GB/s": rate["ingest"] >= 0.45,
        "ingest >= 2x sha256sum + age -e": ratio >= 2.0,
        "transfer >= 0.3 GB/s": rate["transfer"] >= 0.3,
        "resident memory < 300 MB": peak < 300,
    }
    if as_json:
        print(json.dumps({**r, "gb_per_s": rate, "ingest_vs_cli": ratio, "checks": checks}, indent=2))
        return
    print(f"\nevidence benchmark, one file of {size / 1e9:.2f} GB ({size} bytes), {os.cpu_count()} CPUs")
    print(f"{'':44} {'seconds':>8} {'GB/s':>7} {'peak RSS MB':>12}")
    rows = [
        ("our ingest (hash + age encrypt, one pass)", "ingest"),
        ("sha256sum, then age -e (stock tools)", "cli"),
        ("our upload over HTTP (chunked API + seal)", "upload_http"),
        ("our transfer FRA -> VNM (incl. verification)", "transfer"),
    ]
    for label, key in rows:
        print(f"{label:44} {r[key]['seconds']:8.2f} {rate[key]:7.3f} {r[key]['rss_mb']:12.1f}")
    print(f"  of which sha256sum alone: {r['cli']['sha256sum_seconds']:.2f} s")
    print(f"ingest vs stock tools: {ratio:.2f}x faster")
    print("peak RSS of node processes:")
    for name, mb in r["node_processes_peak_rss_mb"].items():
        print(f"  {mb:7.1f} MB  {name}")
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")


if __name__ == "__main__":
    sys.exit(main())
