from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hanoi247.directory import services


class Command(BaseCommand):
    help = "The treaty register: import signatures and instruments from CSV, export it as CSV or JSON."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a CSV file (all rows or none)")
        source = imp.add_mutually_exclusive_group(required=True)
        source.add_argument("file", nargs="?", type=Path, help="CSV: participant,action,date,status,source")
        source.add_argument("--shipped", action="store_true", help="the signatures shipped with the software")
        exp = sub.add_parser("export", help="print the register")
        exp.add_argument("--format", choices=["csv", "json"], default="csv")
        exp.add_argument("--out", type=Path, help="write to this file instead of standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            path = services.SHIPPED_CSV if options["shipped"] else options["file"]
            try:
                result = services.import_csv(path)
            except services.TreatyImportError as exc:
                raise CommandError("nothing imported:\n  " + "\n  ".join(exc.errors)) from None
            except OSError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"imported {result.total} rows from {path} ({result.created} new, {result.updated} updated)"
            )
        else:
            text = services.export_json() if options["format"] == "json" else services.export_csv()
            if options["out"]:
                options["out"].write_text(text, encoding="utf-8")
                self.stdout.write(f"wrote {options['out']}")
            else:
                self.stdout.write(text, ending="")
