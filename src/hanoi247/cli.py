"""``hanoi247`` — the node's command line.

hanoi247 demo [--nodes VNM,FRA,BRA] [--base-port 8400] [--data-dir .demo]
hanoi247 [--data-dir DIR] setup --state VNM --base-url URL
        [--directory-url URL --secretariat-key-file F | --secretariat] [--seed-demo]
hanoi247 [--data-dir DIR] serve [--port N] | worker | audit verify | directory ... | seed-demo | totp USER
hanoi247 [--data-dir DIR] <any Django management command>
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ALIASES = {"seed-demo": "seed_demo"}


def main(argv: list[str] | None = None) -> int:
    # Databases, keys and logs written by a node are for its operator only.
    os.umask(0o077)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] and argv[0] == "--data-dir":
        os.environ["HANOI247_DATA_DIR"] = str(Path(argv[1]).resolve())
        argv = argv[2:]
    elif argv and argv[0].startswith("--data-dir="):
        os.environ["HANOI247_DATA_DIR"] = str(Path(argv[0].split("=", 1)[1]).resolve())
        argv = argv[1:]
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    if argv[0] == "demo":
        from hanoi247.demo import main as demo_main

        return demo_main(argv[1:])
    if argv[0] == "setup":
        return setup(argv[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hanoi247.settings")
    from django.core.management import execute_from_command_line

    argv[0] = ALIASES.get(argv[0], argv[0])
    execute_from_command_line(["hanoi247", *argv])
    return 0


def setup(argv: list[str]) -> int:
    """Prepare a data directory: node.json, keys, database."""
    parser = argparse.ArgumentParser(prog="hanoi247 setup")
    parser.add_argument("--state", required=True, help="ISO 3166 alpha-3 code (UNO for the secretariat)")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--secretariat", action="store_true", help="this node publishes the directory")
    parser.add_argument("--directory-url", default="")
    parser.add_argument("--secretariat-key-file", type=Path)
    parser.add_argument("--contact", default="", help="JSON object of 24/7 contacts for the directory entry")
    parser.add_argument("--seed-demo", action="store_true", help="also create demo users (demo-logins.json)")
    args = parser.parse_args(argv)
    from hanoi247.states import SECRETARIAT, is_state_code

    if not is_state_code(args.state.upper()) or (args.state.upper() == SECRETARIAT) != args.secretariat:
        parser.error(f"--state {args.state!r}: an ISO 3166 alpha-3 code, or {SECRETARIAT} with --secretariat")

    from hanoi247.config import NodeConfig, data_dir, load_node_config, write_node_config

    pinned = json.loads(args.secretariat_key_file.read_text()) if args.secretariat_key_file else {}
    kept = load_node_config()  # what an operator added by hand (deadlines) survives a new setup
    write_node_config(
        NodeConfig(
            state=args.state.upper(),
            kind="secretariat" if args.secretariat else "node",
            base_url=args.base_url,
            directory_url=args.directory_url,
            secretariat_key=pinned,
            deadlines=kept.deadlines,
        )
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hanoi247.settings")
    import django
    from django.core.management import call_command

    django.setup()
    from hanoi247.directory.services import own_entry
    from hanoi247.federation import keys

    generated = keys.generate()
    call_command("migrate", verbosity=0)
    # What the secretariat needs to register this node (`directory register entry.json`).
    contacts = json.loads(args.contact) if args.contact else {}
    (data_dir() / "entry.json").write_text(json.dumps(own_entry(contacts=contacts), indent=2))
    if args.seed_demo:
        import io

        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        (data_dir() / "demo-logins.json").write_text(out.getvalue())
        (data_dir() / "demo-logins.json").chmod(0o600)
    print(f"node {args.state.upper()} ready in {data_dir()} (signing key {generated['sig'].kid})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
