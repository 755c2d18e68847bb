import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hanoi247.reports import services


class Command(BaseCommand):
    help = "Statistics for the Conference: show or send this node's aggregate figures to the secretariat."
    requires_system_checks: list[str] = []  # fast start: checks run with `serve` and `check`

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("send", "compute the report and queue it, signed, for the secretariat"),
            ("show", "print the report as it would be sent"),
        ):
            cmd = sub.add_parser(name, help=text)
            cmd.add_argument("--period", default=None, help="calendar year (default: the current one)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "show":
                self.stdout.write(json.dumps(services.compute(options["period"]), indent=2))
            else:
                row = services.send(options["period"])
                self.stdout.write(f"queued {row.type} {row.message_id} for {row.recipient} (case {row.case_ref})")
        except services.ReportError as exc:
            raise CommandError(str(exc)) from None
