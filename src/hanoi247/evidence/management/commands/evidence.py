import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Evidence: verify every stored item; import a file; print this node's age recipient or identity."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="decrypt and hash every stored item; name any corrupt one (exit 1)")
        add = sub.add_parser("import", help="ingest a file (one pass: hash and encrypt)")
        add.add_argument("path", type=Path)
        add.add_argument("--title", default="")
        add.add_argument("--age", action="store_true", help="the file is age-encrypted to this node")
        sub.add_parser("recipient", help="print this node's age recipient (age1…)")
        ident = sub.add_parser("identity", help="write this node's age identities (AGE-SECRET-KEY-1…) to a file")
        ident.add_argument("--out", type=Path, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        from hanoi247.evidence import services

        action = options["action"]
        if action == "verify":
            corrupt = 0
            total = 0
            for result in services.verify_all():
                total += 1
                item = result.item
                if result.ok:
                    self.stdout.write(f"ok       {item.pk}  {item.sha256}  {item.filename}")
                else:
                    corrupt += 1
                    self.stdout.write(f"CORRUPT  {item.pk}  {item.filename}: {result.reason}")
            self.stdout.write(f"{total} item(s) checked, {corrupt} corrupt")
            if corrupt:
                sys.exit(1)
        elif action == "import":
            path: Path = options["path"]
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            with path.open("rb") as src:
                try:
                    item = services.ingest(
                        src,
                        user=None,
                        title=options["title"] or path.name,
                        filename=path.name.removesuffix(".age") if options["age"] else path.name,
                        age_file=options["age"],
                        actor="hanoi247 evidence import",
                    )
                except services.EvidenceError as exc:
                    raise CommandError(exc.reason) from None
            self.stdout.write(f"{item.pk}  {item.sha256}  {item.size}")
        elif action == "recipient":
            self.stdout.write(services.node_recipient().encode())
        elif action == "identity":
            out: Path = options["out"]
            # Every key the node decrypts with, current first: age tries each line.
            lines = "".join(f"{i.encode()}\n" for i in services.node_identities())
            out.write_text(f"# Hanoi 24/7 node identities: decrypt this node's evidence\n{lines}")
            out.chmod(0o600)
            self.stdout.write(f"identity written to {out}")
