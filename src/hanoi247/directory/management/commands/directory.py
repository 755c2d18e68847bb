import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hanoi247.directory import services
from hanoi247.federation import keys


class Command(BaseCommand):
    help = "The signed directory: export this node's entry, register nodes, publish, sync, show."
    requires_system_checks: list[str] = []  # fast start: checks run with `serve` and `check`

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export-entry", help="this node's public entry, for the secretariat")
        export.add_argument("--contact", default="", help="JSON object of 24/7 contacts")
        register = sub.add_parser("register", help="(secretariat) register node entries")
        register.add_argument("files", nargs="+", type=Path)
        register.add_argument("--publish", action="store_true", help="sign a new version afterwards")
        register.add_argument("--out", type=Path, help="also write the signed directory to this file")
        publish = sub.add_parser("publish", help="(secretariat) sign a new directory version")
        publish.add_argument("--out", type=Path, help="also write the signed directory to this file")
        sync = sub.add_parser("sync", help="fetch and verify the directory from the secretariat")
        sync.add_argument("--file", type=Path, help="take the signed directory from a file instead (offline)")
        sub.add_parser("show", help="print the directory this node holds")
        sub.add_parser("root-key", help="(secretariat) the public key nodes pin")
        rotate = sub.add_parser(
            "rotate-keys", help="make new key pairs, used once a directory lists them; prints the new entry"
        )
        rotate.add_argument("--contact", default="", help="JSON object of 24/7 contacts")
        revoke = sub.add_parser("revoke", help="(secretariat) take a node out of the directory")
        revoke.add_argument("--state", required=True)
        revoke.add_argument("--publish", action="store_true", help="sign a new version afterwards")
        revoke_key = sub.add_parser("revoke-key", help="(secretariat) withdraw one key of a node")
        revoke_key.add_argument("--state", required=True)
        revoke_key.add_argument("--kid", required=True)
        revoke_key.add_argument("--publish", action="store_true", help="sign a new version afterwards")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "export-entry":
                contacts = json.loads(options["contact"]) if options["contact"] else {}
                self.stdout.write(json.dumps(services.own_entry(contacts=contacts), indent=2))
            elif action == "register":
                for path in options["files"]:
                    entry = services.register(json.loads(path.read_text()))
                    self.stdout.write(f"registered {entry.state}")
                if options["publish"]:
                    self._publish(options["out"])
            elif action == "publish":
                self._publish(options["out"])
            elif action == "sync":
                snap = services.accept(options["file"].read_text()) if options["file"] else services.sync()
                self.stdout.write(f"holding directory version {snap.version} ({len(snap.document['nodes'])} nodes)")
            elif action == "show":
                found = services.current(max_age=0)
                if found is None:
                    raise CommandError("no directory held")
                self.stdout.write(json.dumps({"version": found.version, "nodes": sorted(found.nodes)}, indent=2))
            elif action == "root-key":
                self.stdout.write(json.dumps(keys.public_jwk(keys.signing_key())))
            elif action == "rotate-keys":
                from django.conf import settings

                # Every node pins the secretariat's signing key: it cannot change by rotation.
                uses = ("enc",) if settings.NODE.is_secretariat else ("sig", "enc")
                keys.rotate(uses=uses)
                contacts = json.loads(options["contact"]) if options["contact"] else {}
                self.stdout.write(json.dumps(services.own_entry(contacts=contacts), indent=2))
            elif action == "revoke":
                services.revoke_node(options["state"])
                self.stdout.write(f"revoked {options['state']}")
                if options["publish"]:
                    self._publish(None)
            elif action == "revoke-key":
                services.revoke_key(options["state"], options["kid"])
                self.stdout.write(f"revoked key {options['kid']} of {options['state']}")
                if options["publish"]:
                    self._publish(None)
        except (services.DirectoryError, json.JSONDecodeError, OSError) as exc:
            raise CommandError(str(exc)) from None

    def _publish(self, out: Path | None) -> None:
        snap = services.publish()
        if out:
            out.write_text(snap.signed)
        self.stdout.write(
            f"published directory version {snap.version}, valid until {snap.expires_at:%Y-%m-%d %H:%M} UTC"
        )
