import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hanoi247.audit import services as audit
from hanoi247.federation.envelope import iso


class Command(BaseCommand):
    help = (
        "Audit log tools. `audit verify` recomputes the hash chain and checks the signed checkpoints; "
        "`audit checkpoint [--export]` signs the chain's head; `audit verify-checkpoint FILE` checks "
        "an exported checkpoint (ours or another node's, with its key from the directory)."
    )
    requires_system_checks: list[str] = []  # fast start: checks run with `serve` and `check`

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "checkpoint", "verify-checkpoint"])
        parser.add_argument("file", nargs="?", help="verify-checkpoint: the exported checkpoint, or - for stdin")
        parser.add_argument("--export", action="store_true", help="checkpoint: print the signed checkpoint (JWS) only")
        parser.add_argument(
            "--workers", type=int, default=None, help="verify: processes to check the chain with (default: CPUs)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, options["action"].replace("-", "_"))(options)
        except audit.AuditError as exc:
            raise CommandError(str(exc)) from None

    def verify(self, options: dict[str, Any]) -> None:
        result = audit.verify(workers=options["workers"])
        if not result.ok:
            raise CommandError(f"audit chain BROKEN after {result.checked} good entries: {result.reason}")
        self.stdout.write(
            f"audit chain OK: {result.checked} entries verified, {result.checkpoints} signed checkpoints hold"
        )

    def checkpoint(self, options: dict[str, Any]) -> None:
        # Exporting twice with no new entries gives the same checkpoint, not a new one.
        made = audit.checkpoint(only_if_new=options["export"]) or audit.latest_checkpoint()
        if made is None:
            raise CommandError("the audit log is empty: there is nothing to sign")
        if options["export"]:
            self.stdout.write(made.signature)
        else:
            self.stdout.write(
                f"audit checkpoint signed: entry #{made.seq}, hash {made.hash}, {made.count} entries, "
                f"at {iso(made.created_at)}"
            )

    def verify_checkpoint(self, options: dict[str, Any]) -> None:
        if not options["file"]:
            raise CommandError("verify-checkpoint needs a FILE (or - for standard input)")
        if options["file"] == "-":
            signed = sys.stdin.read()
        else:
            with open(options["file"], encoding="utf-8") as handle:
                signed = handle.read()
        claims = audit.verify_exported(signed)
        self.stdout.write(
            f"checkpoint OK: {claims['state']} signed entry #{claims['seq']} with hash {claims['hash']} "
            f"at {claims['at']}"
        )
