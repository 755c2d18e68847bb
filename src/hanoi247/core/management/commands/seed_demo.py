import base64
import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from hanoi247.accounts.models import ApiToken, Role, User
from hanoi247.accounts.services import create_user

DEMO_PASSWORD = "hanoi247-demo"  # noqa: S105 — demo network only, printed for the user
USERNAMES = {
    Role.OFFICER: "officer",
    Role.CENTRAL_AUTHORITY: "central",
    Role.SUPERVISOR: "supervisor",
    Role.NODE_ADMIN: "admin",
    Role.SECRETARIAT: "secretariat",
}
NAMES = {
    Role.OFFICER: "24/7 Officer",
    Role.CENTRAL_AUTHORITY: "Central Authority",
    Role.SUPERVISOR: "Duty Supervisor",
    Role.NODE_ADMIN: "Node Admin",
    Role.SECRETARIAT: "Secretariat Officer",
}


class Command(BaseCommand):
    help = "Create demo users for each role (demo network only) and print their log-ins as JSON."
    requires_system_checks: list[str] = []  # fast start: checks run with `serve` and `check`

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=DEMO_PASSWORD)

    def handle(self, *args: Any, **options: Any) -> None:
        state = settings.NODE.state
        roles = (
            [Role.SECRETARIAT, Role.NODE_ADMIN]
            if settings.NODE.is_secretariat
            else [Role.OFFICER, Role.CENTRAL_AUTHORITY, Role.SUPERVISOR, Role.NODE_ADMIN]
        )
        users = []
        token = ""
        for role in roles:
            username = f"{state.lower()}.{USERNAMES[role]}"
            user = User.objects.filter(username=username).first() or create_user(
                username,
                options["password"],
                role=role,
                state=state,
                full_name=f"{NAMES[role]} {state}",
                email=f"{username}@{state.lower()}.demo.invalid",
            )
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
                user=user, name="demo", confirmed=True
            )
            if role == Role.OFFICER and not token:
                _, token = ApiToken.issue(user, "demo")
            users.append(
                {
                    "username": username,
                    "role": role.value,
                    "password": options["password"],
                    "totp_secret": base64.b32encode(device.bin_key).decode().rstrip("="),
                }
            )
        self.stdout.write(json.dumps({"state": state, "users": users, "api_token": token}))
