import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hanoi247.reports import services
from hanoi247.reports.models import StatisticsReport


class Command(BaseCommand):
    help = "Statistics for the Conference: show or send this node's aggregate figures to the secretariat."
    requires_system_checks: list[str] = []  # fast start: checks run with `serve` and `check`

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("send", "compute the report and queue it, signed, for the secretariat"),
            ("show", "print the report as it would be sent"),
            ("received", "(secretariat) list the States' reports held for the period"),
        ):
            cmd = sub.add_parser(name, help=text)
            cmd.add_argument("--period", default=None, help="calendar year (default: the current one)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "show":
                self.stdout.write(json.dumps(services.compute(options["period"]), indent=2))
            elif options["action"] == "received":
                period = options["period"] or services.default_period()
                for held in StatisticsReport.objects.filter(period=period).order_by("state"):
                    self.stdout.write(f"{held.state} {held.period} received {held.received_at:%Y-%m-%d %H:%M:%S} UTC")
            else:
                row = services.send(options["period"])
                self.stdout.write(f"queued {row.type} {row.message_id} for {row.recipient} (case {row.case_ref})")
        except services.ReportError as exc:
            raise CommandError(str(exc)) from None
