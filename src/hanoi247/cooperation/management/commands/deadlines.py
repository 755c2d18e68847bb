"""``hanoi247 deadlines``: list overdue and soon-due deadlines; lapse expired preservations."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from hanoi247.cooperation import services
from hanoi247.cooperation.models import Deadline, Status


class Command(BaseCommand):
    help = "List deadlines that are overdue or due within --days days; --lapse ends expired preservations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=7)
        parser.add_argument("--lapse", action="store_true", help="lapse preservations past their term now")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["lapse"]:
            for req in services.check_deadlines():
                self.stdout.write(f"lapsed {req.reference} (preserved until {req.preserved_until})")
        now = timezone.now()
        horizon = now + timedelta(days=max(0, options["days"]))
        rows = (
            Deadline.objects.filter(met_at__isnull=True, due_at__lte=horizon)
            .exclude(request__status__in=[Status.REFUSED, Status.WITHDRAWN, Status.LAPSED])
            .select_related("request")
            .order_by("due_at")
        )
        for d in rows:
            flag = "OVERDUE" if d.due_at < now else "due"
            self.stdout.write(f"{flag:8} {d.due_at:%Y-%m-%d %H:%M} {d.kind:20} {d.request.reference} ({d.owner})")
