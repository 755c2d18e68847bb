from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hanoi247.audit.services import verify


class Command(BaseCommand):
    help = "Audit log tools. `audit verify` recomputes the hash chain."
    requires_system_checks: list[str] = []  # fast start: checks run with `serve` and `check`

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify()
        if not result.ok:
            raise CommandError(f"audit chain BROKEN after {result.checked} good entries: {result.reason}")
        self.stdout.write(f"audit chain OK: {result.checked} entries verified")
