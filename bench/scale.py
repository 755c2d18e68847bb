"""Scale benchmark (not a test): the pages an officer uses most, on a node with 100,000
requests and 1,000,000 audit entries (issue #5).

    python bench/scale.py [--requests 100000] [--audit 1000000] [--timed 50] [--seed N]

Creates a throw-away PostgreSQL database (PG_URL, default postgres://postgres@127.0.0.1:5432;
dropped afterwards, also on failure), migrates it, then fills it by bulk insert:

- ``--requests`` requests, a realistic mix: 60 % incoming, 40 % outgoing; every request type;
  statuses weighted towards the closed ones (most of a node's history is done); five requests
  to a case; two or three events each; for incoming requests not closed, their open
  acknowledgement and execution deadlines (some overdue), for the others met ones;
- ``--audit`` audit entries by COPY. Their hash chain is **not** valid (random hashes, the
  head set to the last one): verifying the chain is bench/audit.py's subject; here the log
  only has to be as large as a busy node's, and new entries appended to it as usual.

Then times ``--timed`` requests of each, after three untimed ones, with Django's test client
in-process, signed in as a 24/7 officer with a verified second factor (web) or an API token:

- the desk (``/``, the inbox),
- the request list with filters (``GET /api/v1/requests?direction=incoming&status=delivered``),
- a request page (``/requests/<id>/``, a different request each time),
- search (``GET /api/v1/requests?q=<reference prefix>``),

and prints p50 and p95 per page, and PASS or MISS against 100 ms at p95.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TARGET_MS = 100.0
BATCH = 5000

INCOMING_STATUSES = {
    "delivered": 3,
    "acknowledged": 4,
    "info_requested": 1,
    "consultation": 1,
    "postponed": 1,
    "partially_executed": 2,
    "executed": 55,
    "refused": 6,
    "withdrawn": 3,
    "lapsed": 4,
}
OUTGOING_STATUSES = {
    "draft": 4,
    "submitted": 1,
    "delivered": 3,
    "acknowledged": 5,
    "info_requested": 1,
    "executed": 60,
    "refused": 6,
    "withdrawn": 4,
    "lapsed": 4,
}
CLOSED = {"executed", "refused", "withdrawn", "lapsed"}
PEERS = ("FRA", "BRA", "DEU", "JPN", "KEN", "ARG", "IND", "ZAF")


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# -- filling ------------------------------------------------------------------------------


def fill_requests(count: int, rng: random.Random, officer: Any) -> None:
    from hanoi247.cooperation.models import Case, Deadline, Request, RequestEvent
    from hanoi247.cooperation.schemas import REQUEST_TYPES
    from hanoi247.demo import EXAMPLE_PRESERVATION

    now = datetime.now(UTC)
    types = list(REQUEST_TYPES)
    cases: list[Any] = []
    for start in range(0, count, BATCH):
        rows, events, deadlines = [], [], []
        batch_cases = [
            Case(
                reference=f"VNM-C2026-{(start + i) // 5 + 1:06d}",
                title=f"Case {(start + i) // 5 + 1}",
                origin_state="VNM",
                created_by=officer,
            )
            for i in range(0, min(BATCH, count - start), 5)
        ]
        cases = Case.objects.bulk_create(batch_cases)
        for i in range(start, min(start + BATCH, count)):
            incoming = rng.random() < 0.6
            peer = rng.choice(PEERS)
            status = pick(rng, INCOMING_STATUSES if incoming else OUTGOING_STATUSES)
            kind = "preservation" if rng.random() < 0.3 else rng.choice(types)
            submitted = now - timedelta(days=rng.uniform(0, 3 * 365))
            req = Request(
                reference=f"{peer if incoming else 'VNM'}-2026-{i + 1:06d}",
                type=kind,
                direction="incoming" if incoming else "outgoing",
                requesting_state=peer if incoming else "VNM",
                requested_state="VNM" if incoming else peer,
                status=status,
                payload=EXAMPLE_PRESERVATION if kind == "preservation" else {},
                created_by=None if incoming else officer,
                submitted_at=None if status == "draft" else submitted,
                delivered_at=None if status in ("draft", "submitted") else submitted + timedelta(seconds=2),
                acknowledged_at=submitted + timedelta(hours=1)
                if status not in ("draft", "submitted", "delivered")
                else None,
                closed_at=submitted + timedelta(days=20) if status in CLOSED else None,
                case=cases[(i - start) // 5],
                urgent=rng.random() < 0.05,
            )
            rows.append(req)
            for n, event in enumerate(("submitted", "delivered", "acknowledged")[: rng.randint(2, 3)]):
                events.append(
                    RequestEvent(
                        request=req,
                        kind=event,
                        at=submitted + timedelta(minutes=n),
                        actor_name="Lan Nguyen",
                        actor_role="officer",
                        actor_state=req.requesting_state,
                    )
                )
            if incoming and status != "draft":
                open_ = status not in CLOSED
                for due_kind, after in (("acknowledgement", timedelta(hours=2)), ("execution", timedelta(days=30))):
                    due = now + timedelta(days=rng.uniform(-3, 30)) if open_ else submitted + after
                    met = None if open_ and (due_kind == "execution" or status == "delivered") else due
                    deadlines.append(Deadline(request=req, kind=due_kind, due_at=due, met_at=met))
        Request.objects.bulk_create(rows)
        RequestEvent.objects.bulk_create(events)
        Deadline.objects.bulk_create(deadlines)


def fill_audit(count: int) -> None:
    """``count`` entries by COPY; not a valid chain (see the module's docstring)."""
    from django.db import connection

    from hanoi247.audit.models import AuditEntry, AuditHead

    start = datetime(2026, 1, 1, tzinfo=UTC)
    columns = "seq, at, actor, action, object_type, object_id, data, prev_hash, hash"
    actions = ("request.viewed", "request.listed", "request.submitted", "request.acknowledged", "login")
    last = "0" * 64
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's cursor, for COPY
        with raw.copy(f"COPY {AuditEntry._meta.db_table} ({columns}) FROM STDIN") as copy:
            for seq in range(1, count + 1):
                last = uuid.uuid4().hex * 2
                copy.write_row(
                    (
                        seq,
                        start + timedelta(seconds=seq),
                        f"officer{seq % 37} (officer, VNM)",
                        actions[seq % len(actions)],
                        "request",
                        str(uuid.UUID(int=seq)),
                        '{"reference": "VNM-2026-000001"}',
                        "0" * 64,
                        last,
                    )
                )
    AuditHead.objects.update_or_create(pk=1, defaults={"seq": count, "hash": last})


# -- timing -------------------------------------------------------------------------------


def timed(client: Any, urls: list[str]) -> list[float]:
    for url in urls[:3]:
        client.get(url)
    out = []
    for url in urls:
        t = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
    return out


def measure(n: int, rng: random.Random, officer: Any) -> dict[str, list[float]]:
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from hanoi247.accounts.models import ApiToken
    from hanoi247.cooperation.models import Request

    device = TOTPDevice.objects.create(user=officer, name="bench", confirmed=True)
    web = Client()
    web.force_login(officer)
    session = web.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    api = Client(headers={"Authorization": f"Bearer {ApiToken.issue(officer, 'bench')[1]}"})

    if os.environ.get("H247_SCALE_PROFILE"):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            web.get("/")
        print(f"desk: {len(queries)} queries; the slowest:")
        for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:6]:
            print(f"  {float(q['time']) * 1000:7.1f} ms  {q['sql'][:200]}")
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(web.get, "/")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    ids = list(Request.objects.filter(type="preservation").values_list("pk", flat=True)[:5000])
    refs = list(Request.objects.values_list("reference", flat=True)[:5000])
    return {
        "desk /": timed(web, ["/"] * n),
        "API list ?direction=&status=": timed(api, ["/api/v1/requests?direction=incoming&status=delivered"] * n),
        "request page": timed(web, [f"/requests/{rng.choice(ids)}/" for _ in range(n)]),
        "search ?q= (reference prefix)": timed(api, [f"/api/v1/requests?q={rng.choice(refs)[:-2]}" for _ in range(n)]),
    }


def report(results: dict[str, list[float]], args: argparse.Namespace) -> bool:
    print()
    print(f"Scale: {args.requests:,} requests, {args.audit:,} audit entries, {args.timed} timed requests each")
    print(f"  {'page':34}{'p50 ms':>10}{'p95 ms':>10}   vs {TARGET_MS:.0f} ms at p95")
    ok = True
    for name, samples in results.items():
        p50 = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
        verdict = "PASS" if p95 <= TARGET_MS else "MISS"
        ok = ok and verdict == "PASS"
        print(f"  {name:34}{p50:>10.1f}{p95:>10.1f}   {verdict}")
    return ok


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--timed", type=int, default=50)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)

    import psycopg

    server = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    name = f"h247_bench_scale_{os.getpid()}"
    data_dir = Path(tempfile.mkdtemp(prefix="h247-bench-scale-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "hanoi247.settings",
            "HANOI247_DATA_DIR": str(data_dir),
            "HANOI247_STATE": "VNM",
            "HANOI247_BASE_URL": "http://127.0.0.1:1",
            "HANOI247_ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": f"{server}/{name}",
        }
    )
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from hanoi247.accounts.models import Role
        from hanoi247.accounts.services import create_user
        from hanoi247.federation import keys

        call_command("migrate", verbosity=0)
        keys.generate()
        officer = create_user("officer", "bench password 123", role=Role.OFFICER, state="VNM", full_name="Lan Nguyen")
        rng = random.Random(args.seed)
        t = time.perf_counter()
        fill_requests(args.requests, rng, officer)
        print(f"filled {args.requests:,} requests in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        t = time.perf_counter()
        fill_audit(args.audit)
        print(f"filled {args.audit:,} audit entries in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        ok = report(measure(args.timed, rng, officer), args)
        connection.close()
    finally:
        with psycopg.connect(server + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
