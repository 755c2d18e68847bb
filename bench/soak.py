"""Soak run (not a test): three nodes exchange mixed traffic for N minutes; then every
message queued is looked for at its recipient.

    python bench/soak.py [--minutes 2] [--rate 6] [--requests-every 2] [--faults] [--json]

Starts a throw-away network (secretariat, VNM, FRA, BRA) on free loopback ports in a
temporary directory — SQLite, or one PostgreSQL database per node when
DATABASE_URL=postgres://… is set — and always stops it again.

Traffic, for ``--minutes``:
- each node queues probes (``hanoi247 federation probe``) to the two others at about
  ``--rate`` messages a second in all, over four cases per pair, so that order per case
  is exercised;
- every ``--requests-every`` seconds a preservation request is created and submitted
  through the API of one node (VNM → FRA → BRA → VNM in turn), and the recipient
  acknowledges it once it holds it: request.submitted and request.event messages;
- with ``--faults``: a third of the way in, FRA is killed (kill -9 of its web processes
  and worker) and started again 5 s later; at two thirds, BRA is stopped for 10 s.

Then the generators stop, the nodes get up to ``--drain`` seconds to deliver what is
left, and the script reads every node's outbox and inbox from its database:

- delivered: messages queued whose id the recipient holds;
- duplicated: messages the recipient holds more than once (by id, or a second id on one
  (sender, case, seq)), or holds without the sender having queued them;
- lost: messages queued that the recipient does not hold after the drain;
- out of order: (sender, case) whose messages were not stored as seq 1, 2, 3 …;
- latency: from the sender's queuing (``OutboxMessage.created_at``) to the recipient's
  storing (``InboxMessage.received_at``). It includes waiting behind earlier messages of
  the same case and, with ``--faults``, the outages.

All processes share this machine's clock.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

# The request schemas the harness imports read Django's settings (translations).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hanoi247.settings")

from hanoi247.demo import EXAMPLE_PRESERVATION as COMPLETE
from hanoi247.demo import Network, Node, drop_databases, free_port_block, throwaway_databases
from hanoi247.states import SECRETARIAT

STATES = ["VNM", "FRA", "BRA"]


def when(value: Any) -> datetime:
    """A timestamp as the database gives it: a datetime (PostgreSQL) or text (SQLite)."""
    if isinstance(value, datetime):
        return value
    text = str(value).replace(" ", "T")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # Django keeps UTC in SQLite


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def api(node: Node) -> httpx.Client:
    return httpx.Client(
        base_url=node.url + "/api/v1", timeout=10, headers={"Authorization": f"Bearer {node.login['api_token']}"}
    )


def probes(net: Network, node: Node, seconds: float, rate: float) -> subprocess.Popen[bytes]:
    """A process queueing probes from ``node`` to the two other nodes for about ``seconds``."""
    others = ",".join(s for s in STATES if s != node.state)
    cases = ",".join(f"soak-{node.state.lower()}-{i}" for i in range(4))
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "hanoi247.cli", "federation", "probe", others),
            *("--count", str(int(seconds * rate)), "--cases", cases, "--batch", "1", "--pause", str(1 / rate)),
        ],
        env=node.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def requests_loop(net: Network, stop: threading.Event, every: float, counts: Counter[str]) -> None:
    """Requests around the ring, each acknowledged by its recipient once it holds it."""
    clients = {s: api(net.node(s)) for s in STATES}
    waiting: list[tuple[str, str]] = []
    for sender in itertools.cycle(STATES):
        if stop.wait(every):
            return
        recipient = STATES[(STATES.index(sender) + 1) % len(STATES)]
        try:
            rid = clients[sender].post("/requests", json={"type": "preservation", "recipient": recipient, **COMPLETE})
            rid.raise_for_status()
            if clients[sender].post(f"/requests/{rid.json()['id']}/submit").status_code == 200:
                counts["requests submitted"] += 1
                waiting.append((recipient, rid.json()["id"]))
            for holder, request_id in list(waiting):
                seen = clients[holder].get(f"/requests/{request_id}")
                if seen.status_code == 200 and seen.json()["status"] == "delivered":
                    if clients[holder].post(f"/requests/{request_id}/acknowledge").status_code == 200:
                        counts["requests acknowledged"] += 1
                    waiting.remove((holder, request_id))
        except (httpx.HTTPError, ValueError, KeyError):
            counts["API calls failed (node down)"] += 1


def faults(net: Network, stop: threading.Event, seconds: float, log: list[str]) -> None:
    if stop.wait(seconds / 3):
        return
    fra = net.node("FRA")
    log.append(f"{time.strftime('%H:%M:%S')} kill -9 FRA")
    net.kill_node(fra)
    time.sleep(5)
    net.start_node(fra)
    log.append(f"{time.strftime('%H:%M:%S')} FRA started again")
    if stop.wait(seconds / 3):
        return
    bra = net.node("BRA")
    log.append(f"{time.strftime('%H:%M:%S')} BRA stopped")
    net.stop_node(bra)
    time.sleep(10)
    net.start_node(bra)
    log.append(f"{time.strftime('%H:%M:%S')} BRA started again")


def _id(value: Any) -> str:
    return str(uuid.UUID(str(value)))


def pending(net: Network) -> int:
    return sum(n.sql("SELECT count(*) FROM federation_outboxmessage WHERE status = 'pending'")[0][0] for n in net.nodes)


def measure(net: Network) -> dict[str, Any]:
    sent: dict[str, tuple[str, str, datetime]] = {}  # id -> (sender, recipient, queued at)
    held: dict[str, list[tuple[str, str, int, str, datetime]]] = {}  # recipient -> rows in storing order
    for node in net.nodes:
        for mid, recipient, created in node.sql(
            "SELECT message_id, recipient, created_at FROM federation_outboxmessage WHERE recipient <> ?",
            (SECRETARIAT,),
        ):
            sent[_id(mid)] = (node.state, recipient, when(created))
        held[node.state] = [
            (_id(mid), sender, seq, case, when(at))
            for mid, sender, seq, case, at in node.sql(
                "SELECT message_id, sender, seq, case_ref, received_at FROM federation_inboxmessage ORDER BY id"
            )
            if sender != SECRETARIAT
        ]
    copies = Counter(mid for rows in held.values() for mid, *_ in rows)
    slots = Counter((r, s, case, seq) for r, rows in held.items() for _, s, seq, case, _ in rows)
    duplicated = sum(n - 1 for n in copies.values() if n > 1) + sum(n - 1 for n in slots.values() if n > 1)
    duplicated += sum(1 for mid in copies if mid not in sent)
    received = {mid: (r, at) for r, rows in held.items() for mid, _, _, _, at in rows}
    latencies = [
        (received[mid][1] - queued).total_seconds()
        for mid, (_, recipient, queued) in sent.items()
        if mid in received and received[mid][0] == recipient
    ]
    out_of_order = 0
    for rows in held.values():
        by_case: dict[tuple[str, str], list[int]] = {}
        for _, sender, seq, case, _ in rows:
            by_case.setdefault((sender, case), []).append(seq)
        out_of_order += sum(1 for seqs in by_case.values() if seqs != list(range(1, len(seqs) + 1)))
    return {
        "queued": len(sent),
        "delivered": len(latencies),
        "duplicated": duplicated,
        "lost": len(sent) - len(latencies),
        "out_of_order_cases": out_of_order,
        "latency_p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "latency_p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
        "latency_max_ms": round(max(latencies) * 1000, 1) if latencies else None,
    }


def run(args: argparse.Namespace, data_dir: Path, urls: dict[str, str]) -> dict[str, Any]:
    net = Network(
        STATES,
        base_port=free_port_block(len(STATES) + 1),
        data_dir=data_dir,
        database_urls=urls,
        env={"HANOI247_RETRY_BASE": "0.2"},
    )
    seconds = args.minutes * 60
    counts: Counter[str] = Counter()
    fault_log: list[str] = []
    try:
        print(f"Starting the secretariat, {', '.join(STATES)} in {data_dir} …", flush=True)
        net.prepare()
        net.start()
        print(f"Mixed traffic for {args.minutes:g} min{' with faults' if args.faults else ''} …", flush=True)
        started = time.monotonic()
        stop = threading.Event()
        generators = [probes(net, n, seconds, args.rate) for n in net.nodes]
        threads = [threading.Thread(target=requests_loop, args=(net, stop, args.requests_every, counts))]
        if args.faults:
            threads.append(threading.Thread(target=faults, args=(net, stop, seconds, fault_log)))
        for t in threads:
            t.start()
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        stop.set()
        for t in threads:
            t.join()
        for g in generators:
            try:
                g.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(g.pid, signal.SIGTERM)
                g.wait()
        print(f"Traffic stopped; waiting up to {args.drain:.0f} s for the outboxes to drain …", flush=True)
        deadline = time.monotonic() + args.drain
        while pending(net) and time.monotonic() < deadline:
            time.sleep(1)
        result = measure(net)
        result["still_pending"] = pending(net)
        result.update(counts)
        result["faults"] = fault_log
        result["load"] = os.getloadavg()[0]
        return result
    finally:
        net.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=6.0, help="probes a second queued by each node (default 6)")
    parser.add_argument("--requests-every", type=float, default=2.0, help="seconds between API requests (default 2)")
    parser.add_argument("--faults", action="store_true", help="kill -9 one node and stop another mid-run")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds allowed to deliver the rest")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    data_dir = Path(tempfile.mkdtemp(prefix="h247-soak-"))
    urls: dict[str, str] = {}
    try:
        urls = throwaway_databases([SECRETARIAT, *STATES], "h247_soak")
        result = run(args, data_dir, urls)
    finally:
        drop_databases(urls)
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"\nSoak on {database}, {args.minutes:g} min, 3 nodes (load average at the end {result['load']:.1f})")
    for line in result["faults"]:
        print(f"  fault: {line}")
    for key in ("queued", "delivered", "duplicated", "lost", "out_of_order_cases", "still_pending"):
        print(f"  {key.replace('_', ' '):<28} {result[key]:>8}")
    for key in ("requests submitted", "requests acknowledged", "API calls failed (node down)"):
        print(f"  {key:<28} {result.get(key, 0):>8}")
    for key in ("latency_p50_ms", "latency_p99_ms", "latency_max_ms"):
        print(f"  {key.replace('_', ' '):<28} {result[key]:>8} ")
    if args.json:
        print(json.dumps(result))
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 and result["out_of_order_cases"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
