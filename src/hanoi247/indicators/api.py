"""JSON API for indicators: STIX 2.1 export and import of a case's or a request's
indicators (``/api/v1/indicators/...``). Thin: every action is a call to ``services``."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Body, Router, Schema
from ninja.responses import Status

from hanoi247.accounts.services import acting_user
from hanoi247.cooperation import services as cooperation
from hanoi247.indicators import services

router = Router(tags=["indicators"])


class ErrorOut(Schema):
    detail: str


class ImportOut(Schema):
    created: int
    updated: int
    skipped: list[str]


def _owner(request: HttpRequest, owner: str, owner_id: UUID) -> dict[str, Any]:
    user = acting_user(request)
    if owner == "cases":
        return {"case": cooperation.get_case(user, owner_id)}
    return {"request": cooperation.get_request(user, owner_id)}


@router.get("/{owner}/{owner_id}/stix", response={200: dict[str, Any], 404: ErrorOut})
def export_bundle(request: HttpRequest, owner: Literal["cases", "requests"], owner_id: UUID) -> Any:
    """The indicators of a case (with its requests') or of a request, as a STIX 2.1 bundle
    with TLP 2.0 markings."""
    return services.export(acting_user(request), **_owner(request, owner, owner_id))


@router.post("/{owner}/{owner_id}/stix", response={200: ImportOut, 404: ErrorOut, 422: ErrorOut})
def import_bundle(
    request: HttpRequest,
    owner: Literal["cases", "requests"],
    owner_id: UUID,
    body: dict[str, Any] = Body(...),  # noqa: B008
) -> Any:
    """Import a STIX 2.1 bundle (checked with stix2-validator) under a case or request."""
    try:
        result = services.import_bundle(acting_user(request), body, **_owner(request, owner, owner_id))
    except services.IndicatorError as exc:
        return Status(422, {"detail": exc.message})
    return {"created": result.created, "updated": result.updated, "skipped": result.skipped}
