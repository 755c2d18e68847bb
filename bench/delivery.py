"""Delivery latency benchmark (not a test): how long a submitted request takes to reach the
requested State's node, compared with a raw HTTP POST of the same size.

    python bench/delivery.py [--count 200] [--warmup 5] [--first-poll-ms 100] [--poll-ms 25] [--json]

Starts a throw-away network (secretariat, VNM, FRA) on free loopback ports in a temporary
directory — SQLite, or one PostgreSQL database per node when DATABASE_URL=postgres://… is
set — and always stops it again.

Delivery latency: for each of ``--count`` complete preservation requests, submitted one at a
time at VNM (the next one only after VNM holds the receipt of the previous one), the time
from VNM's ``submitted_at`` to FRA's ``delivered_at`` (which FRA stamps in the transaction
that stores its copy, as it writes the request row). Both are server-side timestamps; all
processes share this machine's clock.

Baseline: a POST of a body as large as the sealed envelope of such a request to FRA's
``/federation/v1/ping`` (which only reads the body), over one keep-alive connection, timed
on the client side. One follows each delivery, so that both series meet the same load from
whatever else runs on the machine.

Target: p99 delivery ≤ 5 x p99 raw POST.

The API gives timestamps to the millisecond, so each delivery time is exact to within ±1 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from hanoi247.demo import EXAMPLE_PRESERVATION as COMPLETE
from hanoi247.demo import Network, Node, drop_databases, free_port_block, throwaway_databases
from hanoi247.federation.envelope import new_message, seal
from hanoi247.states import SECRETARIAT

TARGET_RATIO = 5.0
REQUEST_TIMEOUT = 30.0  # one request not delivered within this ends the run


# -- the network ------------------------------------------------------------------------------


def api(node: Node) -> httpx.Client:
    return httpx.Client(
        base_url=node.url + "/api/v1", timeout=10, headers={"Authorization": f"Bearer {node.login['api_token']}"}
    )


# -- measuring --------------------------------------------------------------------------------


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: HTTP {response.status_code} {response.text[:300]}"
        )
    data: dict[str, Any] = response.json()
    return data


def poll(
    client: httpx.Client, path: str, done: Callable[[dict[str, Any]], bool], what: str, every: float
) -> dict[str, Any]:
    deadline = time.monotonic() + REQUEST_TIMEOUT
    while time.monotonic() < deadline:
        response = client.get(path)
        if response.status_code == 200:
            data: dict[str, Any] = response.json()
            if done(data):
                return data
        elif response.status_code != 404:
            ok(response)
        time.sleep(every)
    raise RuntimeError(f"{what} not seen within {REQUEST_TIMEOUT:.0f}s ({path})")


def deliver_one(vnm: httpx.Client, fra: httpx.Client, first: float, every: float) -> tuple[float, dict[str, Any]]:
    """Create and submit one request at VNM; seconds from submit at VNM to stored at FRA.

    The timestamps are server-side, so when we look does not change the figure; but every
    API call is work for the nodes, and a database write (the token's last use, the audit
    entry of a view) that the delivery would have to wait for. So we first leave the
    delivery alone for ``first`` seconds, then poll every ``every`` seconds."""
    rid = ok(vnm.post("/requests", json={"type": "preservation", "recipient": "FRA", **COMPLETE}), 201)["id"]
    ok(vnm.post(f"/requests/{rid}/submit"))
    time.sleep(first)
    stored = poll(fra, f"/requests/{rid}", lambda d: True, "the request at FRA", every)
    # The next request starts only when VNM holds the receipt: one message in flight.
    sent = poll(vnm, f"/requests/{rid}", lambda d: d["status"] == "delivered", "the receipt at VNM", every)
    return (at(stored["delivered_at"]) - at(sent["submitted_at"])).total_seconds(), sent


def envelope_bytes(request: dict[str, Any]) -> bytes:
    """A sealed envelope as VNM sends for ``request`` (same message shape, test keys)."""
    from joserfc.jwk import OKPKey

    def key(curve: Literal["Ed25519", "X25519"]) -> OKPKey:
        data = OKPKey.generate_key(curve, private=True).as_dict(private=True)
        data["kid"] = OKPKey.import_key(data).thumbprint()
        return OKPKey.import_key(data)

    sig, enc = key("Ed25519"), key("X25519")
    recipient = enc.as_dict(private=False) | {"kid": enc.kid}
    wire = {
        k: request[k]
        for k in ("id", "reference", "type", "requesting_state", "requested_state", "payload", "submitted_at")
    }
    wire["schema_version"] = 1  # not in the API's answer
    event = {
        "id": str(uuid.uuid4()),
        "kind": "submitted",
        "at": request["submitted_at"],
        "actor": {"name": "24/7 point of contact VNM", "role": "officer", "state": "VNM"},
        "note": "",
        "data": {},
    }
    message = new_message(
        type="request.submitted",
        sender="VNM",
        recipient="FRA",
        case_ref=request["id"],
        seq=1,
        body={"request": wire, "event": event},
    )
    return seal(message, signing_key=sig, recipient_key=recipient).encode()


def raw_post(client: httpx.Client, url: str, body: bytes) -> float:
    """Seconds for one POST of ``body`` and its answer, on the client's kept-alive connection."""
    start = time.perf_counter()
    response = client.post(url, content=body)
    elapsed = time.perf_counter() - start
    if ok(response)["bytes"] != len(body):
        raise RuntimeError("the ping endpoint did not read the whole body")
    return elapsed


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (as numpy's default)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# -- the run ----------------------------------------------------------------------------------


def run(
    count: int, warmup: int, data_dir: Path, database_urls: dict[str, str], first: float, every: float
) -> dict[str, Any]:
    net = Network(["VNM", "FRA"], base_port=free_port_block(3), data_dir=data_dir, database_urls=database_urls)
    load = [os.getloadavg()[0]]
    try:
        print(f"Starting the secretariat, VNM and FRA in {data_dir} …", flush=True)
        net.prepare()
        net.start()
        ping = net.node("FRA").url + "/federation/v1/ping"
        with (
            api(net.node("VNM")) as vnm,
            api(net.node("FRA")) as fra,
            httpx.Client(timeout=10, headers={"Content-Type": "application/jose"}) as raw_client,
        ):
            print(f"Warming up: {warmup} deliveries and raw POSTs …", flush=True)
            for _ in range(warmup):
                _, last = deliver_one(vnm, fra, first, every)
            body = envelope_bytes(last)
            for _ in range(warmup):
                raw_post(raw_client, ping, body)
            print(
                f"Measuring: {count} deliveries VNM → FRA, one at a time, each followed by a raw POST "
                f"of {len(body):,} bytes to FRA (so that both meet the same machine load) …",
                flush=True,
            )
            delivery, raw = [], []
            for _ in range(count):
                delivery.append(deliver_one(vnm, fra, first, every)[0])
                raw.append(raw_post(raw_client, ping, body))
        load.append(os.getloadavg()[0])
    finally:
        net.stop()
    return {"delivery": delivery, "raw": raw, "envelope_bytes": len(body), "load": load}


def report(result: dict[str, Any], *, count: int, warmup: int, database: str, as_json: bool) -> None:
    delivery, raw = result["delivery"], result["raw"]
    d50, d99 = percentile(delivery, 50), percentile(delivery, 99)
    r50, r99 = percentile(raw, 50), percentile(raw, 99)
    ratio50, ratio99 = d50 / r50, d99 / r99
    passed = ratio99 <= TARGET_RATIO

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:9.2f} ms"

    print()
    print(
        f"Delivery VNM → FRA: {count} requests ({warmup} warm-up excluded), {database}, "
        f"envelope {result['envelope_bytes']:,} bytes"
    )
    cpus = os.cpu_count() or 1
    print(
        f"  machine: {cpus} CPUs, load average {result['load'][0]:.1f} before, {result['load'][1]:.1f} after"
        + (" — busy: other work competes, the figures are noisy" if max(result["load"]) > cpus else "")
    )
    print(f"  {'':28}{'p50':>12}{'p99':>12}{'max':>12}")
    print(f"  {'delivery (submit → stored)':28}{ms(d50):>12}{ms(d99):>12}{ms(max(delivery)):>12}")
    print(f"  {'raw POST /federation/v1/ping':28}{ms(r50):>12}{ms(r99):>12}{ms(max(raw)):>12}")
    print(f"  {'ratio delivery / raw':28}{ratio50:>11.1f}x{ratio99:>11.1f}x")
    print(f"Target p99 delivery ≤ {TARGET_RATIO:g}x p99 raw POST: {'PASS' if passed else 'MISS'} ({ratio99:.1f}x)")
    if as_json:
        print(
            json.dumps(
                {
                    "count": count,
                    "warmup": warmup,
                    "database": database,
                    "envelope_bytes": result["envelope_bytes"],
                    "delivery_p50_ms": round(d50 * 1000, 3),
                    "delivery_p99_ms": round(d99 * 1000, 3),
                    "raw_p50_ms": round(r50 * 1000, 3),
                    "raw_p99_ms": round(r99 * 1000, 3),
                    "ratio_p50": round(ratio50, 2),
                    "ratio_p99": round(ratio99, 2),
                    "target_ratio_p99": TARGET_RATIO,
                    "pass": passed,
                    "load_average": result["load"],
                }
            )
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="measured requests and raw POSTs (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="excluded requests and POSTs first (default 5)")
    parser.add_argument(
        "--first-poll-ms",
        type=float,
        default=100.0,
        help="quiet time after a submit before the first status poll (default 100)",
    )
    parser.add_argument(
        "--poll-ms",
        type=float,
        default=25.0,
        help="pause between status polls after that (default 25)",
    )
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args(argv)
    if args.count < 1 or args.warmup < 1:
        parser.error("--count and --warmup must be at least 1 (a warm-up request sizes the envelope)")
    # A polite kill (timeout, CI) must still stop the nodes: they run in their own sessions.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    data_dir = Path(tempfile.mkdtemp(prefix="h247-bench-"))
    urls: dict[str, str] = {}
    try:
        urls = throwaway_databases([SECRETARIAT, "VNM", "FRA"], "h247_bench")
        result = run(args.count, args.warmup, data_dir, urls, args.first_poll_ms / 1000, args.poll_ms / 1000)
    finally:
        drop_databases(urls)
        shutil.rmtree(data_dir, ignore_errors=True)
    report(result, count=args.count, warmup=args.warmup, database=database, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
