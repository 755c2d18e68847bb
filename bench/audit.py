"""Audit verify benchmark (not a test): how fast `hanoi247 audit verify` checks a chain of
1,000,000 entries, and whether it finds one changed byte in it.

    python bench/audit.py [--count 1000000] [--seed N] [--json]

For SQLite, and for PostgreSQL when it is reachable (PG_URL, default
postgres://postgres@127.0.0.1:5432; a throw-away database, dropped afterwards), one child
process each, in a temporary data directory:

1. fills the log with ``--count`` valid entries by bulk insert (hashes computed as
   ``audit.record`` does), and signs a checkpoint at the head;
2. verifies the intact chain: in one process, then in as many as verify uses by default
   (one per CPU) — the time of ``audit.verify()``, without Django's start-up;
   (with the CPU time of the verifying processes per entry: on a shared machine the wall
   clock also counts what other work took; for PostgreSQL the server's share is left out);
3. changes one byte (one character of the stored text) in one field of a random entry,
   then runs ``hanoi247 audit verify`` as an operator would, and checks that it exits 1
   and names that entry.

Target: verify ≥ 500,000 entries/s on the intact chain with the default processes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TARGET = 500_000
FIELDS = ("actor", "action", "object_type", "object_id", "data", "at", "prev_hash", "hash")
ACTIONS = ("request.viewed", "request.submitted", "request.acknowledged", "login", "request.listed")


# -- in the child: one database ----------------------------------------------------------------


def fill(count: int) -> None:
    """``count`` valid entries, by bulk insert: the hash is the one ``audit.record`` computes."""
    import hashlib

    import orjson
    from django.db import connection

    from hanoi247.audit.models import AuditEntry, AuditHead
    from hanoi247.audit.services import GENESIS

    start = datetime(2026, 1, 1, tzinfo=UTC)
    prev = GENESIS
    rows = []
    for seq in range(1, count + 1):
        at = start + timedelta(microseconds=seq * 1_234_567 + seq % 7)
        actor, action = f"officer{seq % 37}@vnm", ACTIONS[seq % len(ACTIONS)]
        object_id = str(uuid.UUID(int=seq * 2654435761 % (1 << 128)))
        data = {"reference": f"VNM-2026-{seq:07d}", "status": "acknowledged", "changed": ["status", "note"]}
        body = orjson.dumps(
            [seq, at.isoformat(), actor, action, "request", object_id, data], option=orjson.OPT_SORT_KEYS
        )
        digest = hashlib.sha256(prev.encode() + body).hexdigest()
        stored_at = at.replace(tzinfo=None).isoformat(" ") if connection.vendor == "sqlite" else at
        rows.append(
            (seq, stored_at, actor, action, "request", object_id, json.dumps(data, sort_keys=True), prev, digest)
        )
        prev = digest
    table = AuditEntry._meta.db_table
    columns = "seq, at, actor, action, object_type, object_id, data, prev_hash, hash"
    if connection.vendor == "sqlite":
        raw = connection.cursor().connection  # the sqlite3 connection: no per-row Django wrapping
        raw.execute("BEGIN")
        raw.executemany(f"INSERT INTO {table} ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)  # noqa: S608
        raw.execute("COMMIT")
    else:
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
    AuditHead.objects.filter(pk=1).update(seq=count, hash=prev)


def flip_one_byte(count: int, rng: random.Random) -> tuple[int, str, str, str]:
    """Change one character of one field of a random entry, as stored; return where."""
    from django.db import connection

    from hanoi247.audit.models import AuditEntry

    seq, field = rng.randint(1, count), rng.choice(FIELDS)
    entry = AuditEntry.objects.get(seq=seq)
    if field == "at":
        # One digit of the microseconds: the stored text (SQLite) or value (PostgreSQL) changes by one character.
        text = entry.at.isoformat()
        pos = rng.randrange(20, 26)
        old = text[pos]
        new = rng.choice([d for d in "0123456789" if d != old])
        value: Any = datetime.fromisoformat(text[:pos] + new + text[pos + 1 :])
    elif field == "data":
        text = json.dumps(entry.data, sort_keys=True)
        pos = rng.choice([i for i, c in enumerate(text) if c.isalnum()])
        old = text[pos]
        # Digits become another non-zero digit (a leading 0 is not JSON), letters another letter.
        pool = "123456789" if old.isdigit() else "abcdefghijklmnopqrstuvwxyz"
        new = rng.choice([c for c in pool if c != old])
        value = json.loads(text[:pos] + new + text[pos + 1 :])
    else:
        text = getattr(entry, field)
        pos = rng.randrange(len(text))
        old = text[pos]
        pool = "0123456789abcdef" if field.endswith("hash") else "abcdefghijklmnopqrstuvwxyz0123456789"
        new = rng.choice([c for c in pool if c != old])
        value = text[:pos] + new + text[pos + 1 :]
    AuditEntry.objects.filter(seq=seq).update(**{field: value})
    connection.close()
    return seq, field, old, new


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (verify's pool), so that
    a figure can be told apart from what other work on the machine took. For PostgreSQL it
    leaves out the server's share."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from hanoi247.audit import services as audit
    from hanoi247.federation import keys

    result: dict[str, Any] = {"count": args.count, "cpus": os.cpu_count()}
    call_command("migrate", verbosity=0)
    keys.generate()
    t = time.perf_counter()
    fill(args.count)
    result["fill_s"] = time.perf_counter() - t
    t = time.perf_counter()
    audit.checkpoint()
    result["checkpoint_s"] = time.perf_counter() - t
    connection.close()

    workers = audit.default_workers(args.count)
    result["load"] = [os.getloadavg()[0]]
    for name, n in (("one", 1), ("default", workers)):
        t, cpu = time.perf_counter(), cpu_seconds()
        outcome = audit.verify(workers=n)
        elapsed = time.perf_counter() - t
        if not outcome.ok:
            raise RuntimeError(f"the intact chain did not verify: {outcome.reason}")
        result[f"verify_{name}_s"] = elapsed
        result[f"verify_{name}_cpu_s"] = cpu_seconds() - cpu
        result[f"verify_{name}_workers"] = n
    result["load"].append(os.getloadavg()[0])
    seq, field, old, new = flip_one_byte(args.count, random.Random(args.seed))
    result["flipped"] = {"seq": seq, "field": field, "from": old, "to": new}
    t = time.perf_counter()
    cli = subprocess.run(
        [str(Path(sys.executable).with_name("hanoi247")), "audit", "verify"],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    result["cli_s"] = time.perf_counter() - t
    result["cli_status"] = cli.returncode
    result["cli_output"] = (cli.stdout + cli.stderr).strip().splitlines()[-1:]
    result["found"] = cli.returncode == 1 and f"#{seq} " in (cli.stderr + " ")
    return result


# -- the parent: one child per database, figures side by side -----------------------------------


def run_child(database_url: str, count: int, seed: int) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="h247-bench-audit-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hanoi247.settings",
        "HANOI247_DATA_DIR": str(data_dir),
        "HANOI247_STATE": "VNM",
        "HANOI247_BASE_URL": "http://127.0.0.1:1",
        "DATABASE_URL": database_url or f"sqlite:///{data_dir / 'node.sqlite3'}",
    }
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--count", str(count), "--seed", str(seed)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the benchmark child failed:\n{done.stderr[-3000:]}")
        data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return data
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def postgres_server() -> str | None:
    url = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    try:
        import psycopg

        psycopg.connect(url + "/postgres", connect_timeout=3).close()
    except Exception:
        return None
    return url


def report(results: dict[str, dict[str, Any]], count: int) -> bool:
    names = list(results)

    def row(label: str, cell: Any) -> None:
        print(f"  {label:34}" + "".join(f"{cell(results[n]):>24}" for n in names))

    def rate(r: dict[str, Any], key: str) -> str:
        return f"{count / r[key]:,.0f} /s ({r[key]:.2f} s)"

    first = results[names[0]]
    print()
    print(f"Audit verify: {count:,} entries, {first['cpus']} CPUs")
    print(f"  {'':34}" + "".join(f"{n:>24}" for n in names))
    row("fill (bulk insert, hashes)", lambda r: f"{r['fill_s']:.1f} s")
    row("first checkpoint (checks all)", lambda r: f"{r['checkpoint_s']:.2f} s")
    row("verify intact, 1 process", lambda r: rate(r, "verify_one_s"))
    row(
        "verify intact, default processes",
        lambda r: f"{r['verify_default_workers']}: " + rate(r, "verify_default_s"),
    )
    row("  CPU time of those processes", lambda r: f"{r['verify_default_cpu_s'] / count * 1e6:.2f} µs/entry")
    row("  load average before, after", lambda r: "{:.1f}, {:.1f}".format(*r["load"]))
    row(
        "changed byte",
        lambda r: f"#{r['flipped']['seq']} {r['flipped']['field']} {r['flipped']['from']}→{r['flipped']['to']}",
    )
    row("`hanoi247 audit verify` (with start-up)", lambda r: f"exit {r['cli_status']}, {r['cli_s']:.2f} s")
    row("names that entry", lambda r: "yes" if r["found"] else "NO")
    passed = True
    for name in names:
        r = results[name]
        speed = count / r["verify_default_s"]
        ok = speed >= TARGET and r["found"]
        passed &= ok
        print(f"  {name}: {r['cli_output'][0] if r['cli_output'] else ''}")
    row(
        f"target ≥ {TARGET:,} entries/s, found",
        lambda r: "PASS" if count / r["verify_default_s"] >= TARGET and r["found"] else "MISS",
    )
    cpus = first["cpus"] or 1
    if any(max(r["load"]) > cpus for r in results.values()):
        print(
            f"  busy: the load average was above {cpus}, other work took CPU time from verify; the CPU time per "
            "entry is what verify itself needed (for PostgreSQL without the server's share)"
        )
    return passed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="entries in the log (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=None, help="which entry and byte to change (default: random)")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0
    seed = random.randrange(1 << 30) if args.seed is None else args.seed
    results = {}
    print(f"SQLite: filling and verifying {args.count:,} entries (seed {seed}) …", flush=True)
    results["SQLite"] = run_child("", args.count, seed)
    server = postgres_server()
    if server is None:
        print("PostgreSQL not reachable: SQLite only")
    else:
        import psycopg

        name = f"h247_bench_audit_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            print(f"PostgreSQL: filling and verifying {args.count:,} entries (database {name}, dropped after) …")
            results["PostgreSQL"] = run_child(f"{server}/{name}", args.count, seed)
        finally:
            with psycopg.connect(server + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    passed = report(results, args.count)
    if args.json:
        print(json.dumps({"count": args.count, "seed": seed, "target": TARGET, "pass": passed, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
