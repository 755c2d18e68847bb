"""What the worker runs for the desk (``hanoi247 worker``, or the worker inside ``serve``)."""

from __future__ import annotations

from hanoi247.federation import services as federation
from hanoi247.operations import services


@federation.periodic(every_seconds=2)
def alert_desk() -> int:
    """New requests reach the officer on call within seconds: an emergency must be
    acknowledged within minutes (its deadline is 15 minutes)."""
    services.alert_new_requests()
    return services.send_pending()


@federation.periodic(every_seconds=30)
def escalate() -> int:
    """Unacknowledged requests past their deadline climb the node's ladder."""
    fired = services.escalate_overdue()
    services.send_pending()
    return len(fired)


@federation.periodic(every_seconds=300)
def peers_on_call() -> int:
    """Who is reachable now in the other States: their signed on-call documents (ADR 0015)."""
    return services.refresh_peer_on_call()
