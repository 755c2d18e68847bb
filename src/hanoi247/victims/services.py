"""Removal of non-consensual intimate images by hash (Arts. 16 and 34).

The victim's State records the case and the images on its own node; only their hashes
(PDQ, MD5, SHA-256) travel, to the requested States chosen for the case. There, the hashes
are matched against what the requested State's own authorities submit, and each removal is
reported back. The victim's identity travels only with the victim's recorded consent.

Who sees what on this node: every local case handler sees the cases, hashes, matches and
removals; only the central authority and supervisors see the images and the victim's
identity (and only they record a case or an image). Anyone else gets 404.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from hanoi247.accounts.models import Role, User
from hanoi247.accounts.services import is_local_case_handler
from hanoi247.audit import services as audit
from hanoi247.cooperation.models import Direction, Handling
from hanoi247.directory import services as directory
from hanoi247.federation import services as federation
from hanoi247.federation.envelope import EnvelopeError, iso, parse_time
from hanoi247.victims import hashing, storage
from hanoi247.victims.models import Match, NciiCase, NciiHash, NciiImage, Removal, Sighting

HASHES = "ncii.hashes"
REMOVAL = "ncii.removal"
IMAGE_ROLES = {Role.CENTRAL_AUTHORITY, Role.SUPERVISOR}
DEFAULT_PDQ_THRESHOLD = 31  # ThreatExchange's recommended distance for PDQ
MAX_IMAGE_BYTES = 20 * 1024 * 1024


class VictimsError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def pdq_threshold() -> int:
    """The largest Hamming distance (of 256 bits) at which two PDQ hashes match:
    setting NCII_PDQ_THRESHOLD, or the environment's HANOI247_NCII_PDQ_THRESHOLD, else 31."""
    value: Any = getattr(settings, "NCII_PDQ_THRESHOLD", None)
    if value is None:
        value = os.environ.get("HANOI247_NCII_PDQ_THRESHOLD", DEFAULT_PDQ_THRESHOLD)
    return max(0, min(int(value), 128))


# -- who sees what ------------------------------------------------------------------------


def can_see_victim(user: Any) -> bool:
    """The images and the victim's identity: the central authority and supervisors only."""
    return is_local_case_handler(user) and user.role in IMAGE_ROLES


def visible_cases(user: Any) -> QuerySet[NciiCase]:
    if not is_local_case_handler(user):
        return NciiCase.objects.none()
    return NciiCase.objects.all()


def get_case(user: Any, case_id: UUID | str) -> NciiCase:
    try:
        return visible_cases(user).get(pk=case_id)
    except (NciiCase.DoesNotExist, ValueError, TypeError):
        raise Http404("No such case") from None


def get_image(user: Any, image_id: UUID | str) -> NciiImage:
    """An image the user may see, or 404 — an officer is told no more than an outsider."""
    if not can_see_victim(user):
        raise Http404("No such image")
    try:
        return NciiImage.objects.select_related("case").get(pk=image_id)
    except (NciiImage.DoesNotExist, ValueError, TypeError):
        raise Http404("No such image") from None


def visible_sightings(user: Any) -> QuerySet[Sighting]:
    if not is_local_case_handler(user):
        return Sighting.objects.none()
    return Sighting.objects.all()


def get_match(user: Any, match_id: UUID | str) -> Match:
    if not is_local_case_handler(user):
        raise Http404("No such match")
    try:
        return Match.objects.select_related("hash__case", "sighting").get(pk=match_id)
    except (Match.DoesNotExist, ValueError, TypeError):
        raise Http404("No such match") from None


def _actor(user: User) -> str:
    return f"{user.username} ({user.role}, {user.state})"


def _require_victim_role(user: User) -> None:
    if not can_see_victim(user):
        raise VictimsError("only the central authority or a supervisor records a victim's case and images")


# -- the victim's State ---------------------------------------------------------------------


def _next_reference(state: str) -> str:
    prefix = f"{state}-N{timezone.now().year}-"
    return f"{prefix}{NciiCase.objects.filter(reference__startswith=prefix).count() + 1:05d}"


def record_case(
    user: User,
    *,
    summary: str = "",
    victim_name: str = "",
    victim_contact: str = "",
    consent: bool = False,
    handling: str = Handling.RED,
) -> NciiCase:
    """Art. 34: the victim's national authority records the case on its own node."""
    _require_victim_role(user)
    if handling not in Handling.values:
        raise VictimsError(f"unknown handling code {handling!r}")
    with transaction.atomic():
        case = NciiCase.objects.create(
            reference=_next_reference(settings.NODE.state),
            direction=Direction.OUTGOING,
            origin_state=settings.NODE.state,
            summary=summary.strip(),
            victim_name=victim_name.strip()[:200],
            victim_contact=victim_contact.strip()[:300],
            handling=handling,
            created_by=user,
        )
        if consent:
            _set_consent(user, case, True)
        audit.record("ncii.case_recorded", actor=_actor(user), object_type="ncii_case", object_id=str(case.pk))
    return case


def _set_consent(user: User, case: NciiCase, consent: bool) -> None:
    case.consent = consent
    case.consent_recorded_at = timezone.now()
    case.consent_recorded_by = user.display()
    case.save(update_fields=["consent", "consent_recorded_at", "consent_recorded_by", "updated_at"])


def record_consent(user: User, case: NciiCase, *, consent: bool) -> NciiCase:
    """The victim's consent (or its withdrawal) to their identity being passed to the
    requested States. It governs what is sent from now on."""
    _require_victim_role(user)
    if case.direction != Direction.OUTGOING:
        raise VictimsError("consent is recorded by the victim's State")
    with transaction.atomic():
        _set_consent(user, case, consent)
        audit.record(
            "ncii.consent_recorded",
            actor=_actor(user),
            object_type="ncii_case",
            object_id=str(case.pk),
            data={"consent": consent},
        )
    return case


def add_image(user: User, case: NciiCase, data: bytes) -> NciiHash:
    """Hash the image (PDQ, MD5, SHA-256) and keep it encrypted on this node only."""
    _require_victim_role(user)
    if case.direction != Direction.OUTGOING:
        raise VictimsError("images are recorded only in the victim's State")
    if len(data) > MAX_IMAGE_BYTES:
        raise VictimsError("the image is larger than 20 MB")
    try:
        fp = hashing.fingerprint(data)
    except hashing.ImageError as exc:
        raise VictimsError(str(exc)) from None
    with transaction.atomic():
        image = NciiImage(case=case, content_type=fp.content_type, size=len(data), recorded_by=user.display())
        image.blob = storage.write(image.id, data)
        try:
            image.save()
            row = NciiHash.objects.create(
                case=case, image=image, pdq=fp.pdq, pdq_quality=fp.pdq_quality, md5=fp.md5, sha256=fp.sha256
            )
            audit.record(
                "ncii.image_recorded",
                actor=_actor(user),
                object_type="ncii_case",
                object_id=str(case.pk),
                data={"image": str(image.pk), "sha256": fp.sha256, "pdq": fp.pdq},
            )
        except Exception:
            storage.delete(image.blob)
            raise
    return row


def image_content(user: User, image: NciiImage) -> bytes:
    """The decrypted image for the one who may see it; every view is in the audit log."""
    if not can_see_victim(user):
        raise Http404("No such image")
    audit.record(
        "ncii.image_viewed", actor=_actor(user), object_type="ncii_case", object_id=str(image.case_id),
        data={"image": str(image.pk)},
    )  # fmt: skip
    return storage.read(image.id, image.blob)


def hashes_wire(case: NciiCase) -> dict[str, Any]:
    """What a requested State receives: hashes and the case's reference. Never an image;
    the victim's identity only with recorded consent; the summary stays here."""
    body: dict[str, Any] = {
        "case": {"id": str(case.pk), "reference": case.reference, "handling": case.handling},
        "hashes": [
            {"id": str(h.pk), "pdq": h.pdq, "pdq_quality": h.pdq_quality, "md5": h.md5, "sha256": h.sha256}
            for h in case.hashes.all()
        ],
        "consent": case.consent,
    }
    if case.consent:
        body["victim"] = {"name": case.victim_name, "contact": case.victim_contact}
    return body


def share(user: User, case: NciiCase, states: list[str]) -> list[str]:
    """Send the case's hashes to each chosen requested State (Art. 34: measures to remove
    the content or make it inaccessible)."""
    if not is_local_case_handler(user):
        raise Http404("No such case")
    if case.direction != Direction.OUTGOING:
        raise VictimsError("only the victim's State sends the hashes")
    if not case.hashes.exists():
        raise VictimsError("record at least one image first: its hashes are what is sent")
    dirs = directory.current()
    states = sorted({s.strip().upper() for s in states if s.strip()})
    if not states:
        raise VictimsError("choose at least one State")
    for state in states:
        if state == settings.NODE.state or dirs is None or dirs.node(state) is None:
            raise VictimsError(f"{state!r} is not another node in the directory")
    body = hashes_wire(case)
    with transaction.atomic():
        for state in states:
            federation.enqueue(type=HASHES, recipient=state, case_ref=str(case.pk), body=body, handling=case.handling)
        case.shared_with = sorted(set(case.shared_with) | set(states))
        case.save(update_fields=["shared_with", "updated_at"])
        audit.record(
            "ncii.hashes_sent",
            actor=_actor(user),
            object_type="ncii_case",
            object_id=str(case.pk),
            data={"states": states, "hashes": len(body["hashes"]), "identity_sent": case.consent},
        )
    return states


# -- the requested State ----------------------------------------------------------------------


def _invalid(reason: str) -> EnvelopeError:
    return EnvelopeError(422, "invalid_body", reason)


def _clean_hash(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _invalid("each hash must be an object")
    pdq, md5, sha256 = (str(raw.get(k, "")).lower() for k in ("pdq", "md5", "sha256"))
    if not (hashing.is_hex(pdq, 64) and hashing.is_hex(md5, 32) and hashing.is_hex(sha256, 64)):
        raise _invalid("a hash needs pdq (64 hex), md5 (32 hex) and sha256 (64 hex)")
    quality = raw.get("pdq_quality", 0)
    return {
        "id": str(raw.get("id", "")),
        "pdq": pdq,
        "md5": md5,
        "sha256": sha256,
        "pdq_quality": quality if isinstance(quality, int) and 0 <= quality <= 100 else 0,
    }


@federation.on_receive(HASHES)
def _receive_hashes(message: dict[str, Any]) -> None:
    body, sender = message["body"], message["sender"]
    wire = body.get("case") if isinstance(body, dict) else None
    hashes = body.get("hashes") if isinstance(body, dict) else None
    if not isinstance(wire, dict) or not isinstance(hashes, list) or str(wire.get("id")) != message["case_ref"]:
        raise _invalid("ncii.hashes needs the case and a list of hashes")
    handling = str(wire.get("handling", Handling.RED))
    if handling not in Handling.values:
        raise _invalid(f"unknown handling code {handling!r}")
    case = NciiCase.objects.filter(pk=wire["id"]).first()
    if case is not None and (case.direction != Direction.INCOMING or case.origin_state != sender):
        raise EnvelopeError(409, "conflict", "this case is not one the sender recorded")
    victim = body.get("victim") if body.get("consent") is True else None
    identity = {
        "victim_name": str(victim.get("name", ""))[:200] if isinstance(victim, dict) else "",
        "victim_contact": str(victim.get("contact", ""))[:300] if isinstance(victim, dict) else "",
        "consent": isinstance(victim, dict),
    }
    if case is None:
        case = NciiCase.objects.create(
            id=wire["id"],
            reference=str(wire.get("reference", ""))[:40],
            direction=Direction.INCOMING,
            origin_state=sender,
            handling=handling,
            **identity,
        )
    else:
        for field, value in identity.items():
            setattr(case, field, value)
        case.handling = handling
        case.save()
    new = []
    for raw in hashes:
        fields = _clean_hash(raw)
        row, made = NciiHash.objects.get_or_create(id=fields.pop("id"), case=case, defaults=fields)
        if made:
            new.append(row)
    audit.record(
        "ncii.hashes_received",
        actor=f"node {sender}",
        object_type="ncii_case",
        object_id=str(case.pk),
        data={"hashes": len(new), "identity_received": identity["consent"]},
    )
    for sighting in Sighting.objects.all():
        _match(sighting, new)


def _match(sighting: Sighting, hashes: Any) -> list[Match]:
    threshold = pdq_threshold()
    found = []
    for h in hashes:
        if sighting.sha256 and sighting.sha256 == h.sha256:
            method, distance = Match.Method.SHA256, 0
        elif sighting.md5 and sighting.md5 == h.md5:
            method, distance = Match.Method.MD5, 0
        elif sighting.pdq and (d := hashing.hamming(sighting.pdq, h.pdq)) <= threshold:
            method, distance = Match.Method.PDQ, d
        else:
            continue
        match, _ = Match.objects.get_or_create(
            sighting=sighting, hash=h, defaults={"method": method, "distance": distance}
        )
        found.append(match)
    return found


def submit_sighting(
    user: User,
    *,
    location: str,
    provider: str = "",
    image: bytes | None = None,
    pdq: str = "",
    md5: str = "",
    sha256: str = "",
) -> tuple[Sighting, list[Match]]:
    """This State's authority submits content it found: an image (hashed here, then
    discarded) or its hashes. Returns the cases' hashes it matches."""
    if not is_local_case_handler(user):
        raise Http404("No such page")
    if not location.strip():
        raise VictimsError("say where the content was found")
    if image is not None:
        try:
            fp = hashing.fingerprint(image)
        except hashing.ImageError as exc:
            raise VictimsError(str(exc)) from None
        pdq, md5, sha256 = fp.pdq, fp.md5, fp.sha256
    pdq, md5, sha256 = pdq.strip().lower(), md5.strip().lower(), sha256.strip().lower()
    if pdq and not hashing.is_hex(pdq, 64):
        raise VictimsError("a PDQ hash is 64 hexadecimal digits")
    if md5 and not hashing.is_hex(md5, 32):
        raise VictimsError("an MD5 hash is 32 hexadecimal digits")
    if sha256 and not hashing.is_hex(sha256, 64):
        raise VictimsError("a SHA-256 hash is 64 hexadecimal digits")
    if not (pdq or md5 or sha256):
        raise VictimsError("give the image or at least one of its hashes")
    with transaction.atomic():
        sighting = Sighting.objects.create(
            location=location.strip()[:2000],
            provider=provider.strip()[:200],
            pdq=pdq,
            md5=md5,
            sha256=sha256,
            submitted_by=_actor(user),
        )
        exact = Q(sha256=sha256) if sha256 else Q(pk__in=[])
        if md5:
            exact |= Q(md5=md5)
        # Exact hashes are looked up; PDQ distances need every hash (a linear scan).
        candidates = NciiHash.objects.all() if pdq else NciiHash.objects.filter(exact)
        matches = _match(sighting, candidates)
        audit.record(
            "ncii.sighting_submitted",
            actor=_actor(user),
            object_type="ncii_sighting",
            object_id=str(sighting.pk),
            data={"matches": [str(m.hash_id) for m in matches]},
        )
    return sighting, matches


def report_removal(user: User, match: Match, *, removed_at: datetime | None = None, note: str = "") -> Removal:
    """Art. 34: the content is removed or made inaccessible; the victim's State is told."""
    if not is_local_case_handler(user):
        raise Http404("No such match")
    case = match.hash.case
    moment = removed_at or timezone.now()
    if moment > timezone.now():
        raise VictimsError("a removal is reported once it is done, not in advance")
    with transaction.atomic():
        removal = Removal.objects.create(
            case=case,
            hash=match.hash,
            reporting_state=settings.NODE.state,
            location=match.sighting.location,
            provider=match.sighting.provider,
            method=match.method,
            distance=match.distance,
            removed_at=moment,
            reported_by=user.display(),
            note=note.strip(),
        )
        audit.record(
            "ncii.removal_reported", actor=_actor(user), object_type="ncii_case", object_id=str(case.pk),
            data={"removal": str(removal.pk), "hash": str(match.hash_id)},
        )  # fmt: skip
        if case.direction == Direction.INCOMING:
            federation.enqueue(
                type=REMOVAL,
                recipient=case.origin_state,
                case_ref=str(case.pk),
                body=removal_wire(removal),
                handling=case.handling,
            )
    return removal


def removal_wire(removal: Removal) -> dict[str, Any]:
    return {
        "id": str(removal.pk),
        "case_id": str(removal.case_id),
        "hash_id": str(removal.hash_id),
        "location": removal.location,
        "provider": removal.provider,
        "method": removal.method,
        "distance": removal.distance,
        "removed_at": iso(removal.removed_at),
        "reported_by": removal.reported_by,
        "note": removal.note,
    }


@federation.on_receive(REMOVAL)
def _receive_removal(message: dict[str, Any]) -> None:
    body, sender = message["body"], message["sender"]
    if not isinstance(body, dict):
        raise _invalid("ncii.removal needs an object body")
    case = NciiCase.objects.filter(pk=message["case_ref"], direction=Direction.OUTGOING).first()
    if case is None or sender not in case.shared_with:
        raise EnvelopeError(409, "conflict", "no case of this node was shared with the sender")
    row = case.hashes.filter(pk=str(body.get("hash_id", ""))).first()
    if row is None:
        raise _invalid("the removal names a hash the case does not have")
    method = str(body.get("method", ""))
    if method not in Match.Method.values:
        raise _invalid(f"unknown match method {method!r}")
    try:
        removed_at = parse_time(str(body.get("removed_at", "")))
        distance = int(body.get("distance", 0))
    except (ValueError, TypeError):
        raise _invalid("removed_at must be a time and distance a number") from None
    removal, _ = Removal.objects.get_or_create(
        id=str(body.get("id", "")),
        defaults={
            "case": case,
            "hash": row,
            "reporting_state": sender,
            "location": str(body.get("location", ""))[:2000],
            "provider": str(body.get("provider", ""))[:200],
            "method": method,
            "distance": max(0, min(distance, 256)),
            "removed_at": removed_at,
            "reported_by": str(body.get("reported_by", ""))[:200],
            "note": str(body.get("note", ""))[:5000],
        },
    )
    audit.record(
        "ncii.removal_received", actor=f"node {sender}", object_type="ncii_case", object_id=str(case.pk),
        data={"removal": str(removal.pk), "hash": str(row.pk)},
    )  # fmt: skip
