import json
from pathlib import Path
from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hanoi247.operations import drill


class Command(BaseCommand):
    help = "Time the emergency path (submit to acknowledgement) between two nodes of a running demo network."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--network", type=Path, default=Path(".demo/network.json"), help="written by `demo`")
        parser.add_argument("--from", dest="sender", default="", help="requesting State (default: the first node)")
        parser.add_argument("--to", dest="recipient", default="", help="requested State (default: the second node)")
        parser.add_argument("--runs", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            nodes = {n["state"]: n for n in json.loads(options["network"].read_text())["nodes"]}
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot read the demo network's description: {exc}") from None
        states = list(nodes)
        sender, recipient = options["sender"] or states[0], options["recipient"] or states[1]

        def client(state: str) -> httpx.Client:
            node = nodes[state]
            return httpx.Client(
                base_url=node["base_url"] + "/api/v1",
                headers={"Authorization": f"Bearer {node['api_token']}"},
                timeout=10,
            )

        with client(sender) as requesting, client(recipient) as requested:
            for _ in range(options["runs"]):
                result = drill.run(requesting, requested, recipient)
                self.stdout.write("\n".join(result.lines()))
