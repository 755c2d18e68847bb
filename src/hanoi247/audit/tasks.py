"""The worker signs a checkpoint of the audit chain every hour, when the chain has grown."""

from __future__ import annotations

from hanoi247.audit import services as audit
from hanoi247.federation import services as federation

CHECKPOINT_EVERY_SECONDS = 3600


@federation.periodic(every_seconds=CHECKPOINT_EVERY_SECONDS)
def sign_checkpoint() -> None:
    audit.checkpoint(only_if_new=True)
