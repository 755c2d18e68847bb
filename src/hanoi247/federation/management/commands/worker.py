import gc
import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from hanoi247.directory import services as directory
from hanoi247.federation.services import PERIODIC, deliver_due, release_dead_leases

log = logging.getLogger("hanoi247.worker")


class Command(BaseCommand):
    help = "Deliver the outbox with retries and keep the directory fresh."
    requires_system_checks: list[str] = []  # fast start: checks run with `serve` and `check`

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between outbox polls")
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        gc.collect()
        gc.freeze()  # as in the web processes: no long full collections in a delivery
        stop = False

        def _stop(*_: Any) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        next_sync = 0.0
        next_run = dict.fromkeys(PERIODIC, 0.0)
        try:
            # After a crash (kill -9) of the node, its messages need not wait out the leases.
            release_dead_leases()
        except Exception:
            log.exception("could not take back the leases of dead processes")
        while not stop:
            close_old_connections()
            if time.monotonic() >= next_sync:
                next_sync = time.monotonic() + settings.DIRECTORY_REFRESH_SECONDS
                refresh_directory()
            try:
                deliver_due()
                checkpoint()
            except Exception:
                log.exception("delivery pass failed")
            for name, (every, task) in PERIODIC.items():
                if time.monotonic() >= next_run[name]:
                    next_run[name] = time.monotonic() + every
                    try:
                        task()
                    except Exception:  # one failing task must not end the worker
                        log.exception("periodic task %s failed", name)
            if options["once"]:
                break
            time.sleep(options["interval"])


def checkpoint() -> None:
    """Fold SQLite's write-ahead log into the database here, off the request path."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


def refresh_directory() -> None:
    """Nodes fetch the secretariat's directory; the secretariat re-signs before expiry."""
    try:
        if settings.NODE.is_secretariat:
            held = directory.current(max_age=0)
            validity = settings.DIRECTORY_VALIDITY_SECONDS
            if held is None or (held.expires_at - directory.now()).total_seconds() < validity / 2:
                directory.publish()
        elif settings.NODE.directory_url:
            directory.sync()
    except directory.DirectoryError as exc:
        log.warning("directory refresh failed: %s", exc)
    except Exception:  # a database hiccup must not end the worker: it tries again next round
        log.exception("directory refresh failed")
