import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from hanoi247.federation import services


class Command(BaseCommand):
    help = "Deliveries: send probes to a peer, list what is undelivered."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        probe = sub.add_parser("probe", help="queue probe messages to a peer (they only test the path)")
        probe.add_argument("recipient", help="a State code, or several separated by commas (used in turn)")
        probe.add_argument("--count", type=int, default=1)
        probe.add_argument("--cases", default="probe", help="comma-separated case references, used in turn")
        probe.add_argument("--batch", type=int, default=100, help="messages per transaction")
        probe.add_argument("--pause", type=float, default=0.0, help="seconds between transactions")
        sub.add_parser("undelivered", help="pending messages with the reason of their last attempt (JSON)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "probe":
            cases = [c for c in options["cases"].split(",") if c]
            recipients = [r for r in options["recipient"].split(",") if r]
            for start in range(0, options["count"], options["batch"]):
                with transaction.atomic():
                    for n in range(start, min(start + options["batch"], options["count"])):
                        recipient = recipients[n % len(recipients)]
                        case = cases[n // len(recipients) % len(cases)]
                        services.send_probe(recipient=recipient, case_ref=case, n=n)
                self.stdout.write(f"queued {min(start + options['batch'], options['count'])}", ending="\n")
                self.stdout.flush()
                if options["pause"]:
                    time.sleep(options["pause"])
        elif action == "undelivered":
            rows = [
                {
                    "message_id": str(r.message_id),
                    "type": r.type,
                    "recipient": r.recipient,
                    "case_ref": r.case_ref,
                    "seq": r.seq,
                    "attempts": r.attempts,
                    "last_error": r.last_error,
                    "alert": hasattr(r, "alert"),
                }
                for r in services.undelivered()
            ]
            self.stdout.write(json.dumps(rows))
