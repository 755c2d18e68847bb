"""The signed directory of the network (Art. 41: the register of 24/7 points of contact).

The secretariat signs it; every node pins the secretariat's key and accepts a directory only
when its signature verifies, it has not expired and its version does not go backwards.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
from django.conf import settings
from django.db import transaction
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from hanoi247.directory import guides, treaty
from hanoi247.directory.models import DirectoryEntry, DirectorySnapshot, TreatyAction
from hanoi247.federation import keys
from hanoi247.federation.envelope import JWS_REGISTRY, SIGN_ALG, canonical, iso, now, parse_time
from hanoi247.states import SECRETARIAT, STATE_DEFAULTS, is_state_code, state_name

log = logging.getLogger("hanoi247.directory")

DIRECTORY_TYP = "hanoi247-directory+jws"
DIRECTORY_PATH = "/directory/v1/directory.jws"


class DirectoryError(Exception):
    pass


# -- secretariat side --------------------------------------------------------------------


def own_entry(*, contacts: dict[str, Any] | None = None) -> dict[str, Any]:
    """What this node asks the secretariat to publish about it."""
    node = settings.NODE
    languages, tz = STATE_DEFAULTS.get(node.state, (["en"], "UTC"))
    return {
        "state": node.state,
        "base_url": node.base_url,
        # Newest first: a key made by `directory rotate-keys` is listed before it is used.
        "keys": {"sig": keys.published("sig"), "enc": keys.published("enc")},
        "languages": languages,
        "time_zone": tz,
        "contacts": contacts or {},
        "deadlines": node.deadlines,
        "guide": node.guide,
    }


DEADLINE_KEYS = {"acknowledge_minutes": 60 * 24 * 30, "execute_days": 3650}


def check_deadlines(value: Any) -> dict[str, dict[str, int]]:
    """A State's own deadlines: per request type, minutes to acknowledge and days to execute."""
    if not isinstance(value, dict):
        raise DirectoryError("deadlines must be an object keyed by request type")
    for code, rule in value.items():
        if not isinstance(code, str) or not isinstance(rule, dict) or set(rule) - set(DEADLINE_KEYS):
            raise DirectoryError(f"deadlines for {code!r}: only {', '.join(DEADLINE_KEYS)} may be set")
        for key, limit in DEADLINE_KEYS.items():
            if key in rule and not (isinstance(rule[key], int) and 0 < rule[key] <= limit):
                raise DirectoryError(f"deadlines for {code!r}: {key} must be a whole number from 1 to {limit}")
    return value


def register(entry: dict[str, Any]) -> DirectoryEntry:
    if not is_state_code(entry.get("state", "")):
        raise DirectoryError(f"{entry.get('state')!r} is not an ISO 3166 alpha-3 State code")
    check_deadlines(entry.get("deadlines", {}))
    fields = ("base_url", "keys", "languages", "time_zone", "contacts", "deadlines")
    values = {k: entry[k] for k in fields if k in entry}
    held = DirectoryEntry.objects.filter(state=entry["state"]).first()
    if "guide" in entry:
        values["guide"] = _checked_guide(held.guide if held else {}, entry["guide"])
    if held is not None and "keys" in values:
        values["keys"] = _merge_keys(held.keys or {}, values["keys"])
    obj, _ = DirectoryEntry.objects.update_or_create(state=entry["state"], defaults=values)
    return obj


def _checked_guide(held: dict[str, Any], new: Any) -> dict[str, Any]:
    """The State's guide (Arts. 54-56), validated; a changed one needs a higher version."""
    try:
        guide = guides.check_guide(new)
        guides.check_version(held or {}, guide)
    except guides.GuideError as exc:
        raise DirectoryError(str(exc)) from None
    return guide


def _merge_keys(held: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A re-registered entry keeps the signing keys published before (what they signed
    stays verifiable, ADR 0012) unless they were revoked; a revoked key never comes back."""
    revoked = set(held.get("revoked", []))
    merged: dict[str, Any] = {}
    for use in ("sig", "enc"):
        listed = [k for k in new.get(use, []) if k.get("kid") not in revoked]
        kids = {k.get("kid") for k in listed}
        if use == "sig":
            listed += [k for k in held.get(use, []) if k.get("kid") not in kids | revoked]
        merged[use] = listed
    if revoked:
        merged["revoked"] = sorted(revoked)
    return merged


def revoke_key(state: str, kid: str) -> DirectoryEntry:
    """(Secretariat) Withdraw one key of a node, e.g. a compromised one. Peers refuse what
    it signs as soon as they hold the next directory version (publish it)."""
    entry = DirectoryEntry.objects.filter(state=state).first()
    if entry is None:
        raise DirectoryError(f"{state} is not registered")
    held = entry.keys or {}
    if not any(k.get("kid") == kid for use in ("sig", "enc") for k in held.get(use, [])):
        raise DirectoryError(f"{state} has no key {kid!r}")
    entry.keys = {
        "sig": [k for k in held.get("sig", []) if k.get("kid") != kid],
        "enc": [k for k in held.get("enc", []) if k.get("kid") != kid],
        "revoked": sorted({*held.get("revoked", []), kid}),
    }
    entry.save(update_fields=["keys", "updated_at"])
    log.warning("revoked key %s of %s", kid, state)
    return entry


def revoke_node(state: str) -> DirectoryEntry:
    """(Secretariat) Take a node out of the directory. From the next version on, peers
    neither send to it nor accept what it sends."""
    entry = DirectoryEntry.objects.filter(state=state).first()
    if entry is None:
        raise DirectoryError(f"{state} is not registered")
    entry.active = False
    entry.save(update_fields=["active", "updated_at"])
    log.warning("revoked node %s", state)
    return entry


def publish(*, validity: timedelta | None = None) -> DirectorySnapshot:
    """Sign the current register as a new directory version."""
    if not settings.NODE.is_secretariat:
        raise DirectoryError("only the secretariat node publishes the directory")
    validity = validity or timedelta(seconds=settings.DIRECTORY_VALIDITY_SECONDS)
    with transaction.atomic():
        last = DirectorySnapshot.objects.order_by("-version").values_list("version", flat=True).first()
        issued = now()
        document: dict[str, Any] = {
            "version": (last or 0) + 1,
            "issued_at": iso(issued),
            "expires_at": iso(issued + validity),
            "issuer": settings.NODE.state,
            "nodes": [
                {
                    "state": e.state,
                    "name": state_name(e.state),
                    "base_url": e.base_url,
                    "keys": e.keys,
                    "languages": e.languages,
                    "time_zone": e.time_zone,
                    "contacts": e.contacts,
                    "deadlines": e.deadlines,
                    **({"guide": e.guide} if e.guide else {}),
                }
                for e in DirectoryEntry.objects.filter(active=True)
            ],
        }
        document["treaty"] = treaty_status()
        if not any(n["state"] == settings.NODE.state for n in document["nodes"]):
            # Nodes send to the secretariat too (statistics.report): it is listed under its
            # own key, apart from the States' nodes, unless it registered an entry itself.
            own = own_entry()
            document["secretariat"] = {**own, "name": state_name(own["state"])}
        key = keys.signing_key()
        signed = jws.serialize_compact(
            {"alg": SIGN_ALG, "kid": key.kid, "typ": DIRECTORY_TYP},
            canonical(document),
            key,
            registry=JWS_REGISTRY,
        )
        snap = _store(document, signed)
    _cache.clear()
    _promote_own_keys(document)
    return snap


def treaty_status() -> dict[str, Any]:
    """What the directory says of the Convention's status (Art. 65), from the register:
    its entry into force, or how many instruments are still needed, and each party's own
    date of entry into force."""
    from hanoi247.directory import treaty

    actions = treaty_actions()
    status = treaty.entry_into_force(actions)
    return {
        "entry_into_force": status.date.isoformat() if status.date else None,
        "instruments_counted": status.counted,
        "instruments_needed": status.needed,
        "parties": {code: day.isoformat() for code, day in sorted(status.parties.items())},
        "signatories": sorted(treaty.signatures(actions)),
    }


def latest_signed() -> str | None:
    return DirectorySnapshot.objects.order_by("-version").values_list("signed", flat=True).first()


# -- every node ---------------------------------------------------------------------------


def verify(signed: str, *, pinned: dict[str, Any], at: datetime | None = None, min_version: int = 0) -> dict[str, Any]:
    """Check a signed directory against the pinned secretariat key. Refuses unsigned,
    tampered, expired (stale) and rolled-back documents."""
    if not pinned:
        raise DirectoryError("no secretariat key is pinned on this node")
    try:
        key = OKPKey.import_key(pinned)
        obj = jws.deserialize_compact(signed.strip(), key, registry=JWS_REGISTRY)
        document: dict[str, Any] = json.loads(obj.payload)
        expires = parse_time(document["expires_at"])
        issued = parse_time(document["issued_at"])
        version = int(document["version"])
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise DirectoryError(f"directory signature or form is invalid: {exc}") from None
    if obj.protected.get("typ") != DIRECTORY_TYP:
        raise DirectoryError("document is not a directory")
    moment = at or now()
    if expires <= moment:
        raise DirectoryError(f"directory version {version} is stale: it expired at {document['expires_at']}")
    if issued > moment + timedelta(seconds=settings.FEDERATION_CLOCK_SKEW_SECONDS):
        raise DirectoryError(f"directory version {version} was issued in the future ({document['issued_at']})")
    if version < min_version:
        raise DirectoryError(f"directory version {version} is older than the one held ({min_version})")
    return document


def _store(document: dict[str, Any], signed: str) -> DirectorySnapshot:
    snap, _ = DirectorySnapshot.objects.get_or_create(
        version=document["version"],
        defaults={
            "issued_at": parse_time(document["issued_at"]),
            "expires_at": parse_time(document["expires_at"]),
            "document": document,
            "signed": signed,
        },
    )
    return snap


def accept(signed: str) -> DirectorySnapshot:
    held = DirectorySnapshot.objects.order_by("-version").values_list("version", flat=True).first() or 0
    document = verify(signed, pinned=settings.NODE.secretariat_key, min_version=held)
    snap = _store(document, signed)
    if canonical(snap.document) != canonical(document):
        # Two different documents signed under one version number: the secretariat's key
        # or its publication is broken. Keep what we hold and say so loudly.
        log.error("refused directory version %d: this node holds that version with other content", document["version"])
        raise DirectoryError(f"directory version {document['version']} is already held with other content")
    _cache.clear()
    _promote_own_keys(document)
    return snap


def _promote_own_keys(document: dict[str, Any]) -> None:
    """Start using keys made by `rotate-keys` once a verified directory lists them."""
    mine = [*document.get("nodes", []), *filter(None, [document.get("secretariat")])]
    entry = next((n for n in mine if n.get("state") == settings.NODE.state), None)
    if entry is None:
        return
    listed = {use: {k.get("kid") for k in entry.get("keys", {}).get(use, [])} for use in ("sig", "enc")}
    for use in keys.promote(listed):
        log.warning("the new %s key is in directory version %s: it is now in use", use, document["version"])


def sync(timeout: float = 10.0) -> DirectorySnapshot:
    """Fetch the directory from the secretariat and accept it if it verifies."""
    url = settings.NODE.directory_url.rstrip("/") + DIRECTORY_PATH
    try:
        response = httpx.get(url, timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise DirectoryError(f"cannot fetch the directory from {url}: {exc}") from None
    return accept(response.text)


@dataclass(frozen=True)
class Directory:
    version: int
    expires_at: datetime
    nodes: dict[str, dict[str, Any]]
    treaty: dict[str, Any] = field(default_factory=dict)  # see treaty_status()

    def node(self, state: str) -> dict[str, Any] | None:
        return self.nodes.get(state)

    def key(self, state: str, kid: str, use: str = "sig") -> OKPKey | None:
        entry = self.nodes.get(state)
        if kid in (entry or {}).get("keys", {}).get("revoked", []):
            return None
        for jwk in (entry or {}).get("keys", {}).get(use, []):
            if jwk.get("kid") == kid:
                return OKPKey.import_key(jwk)
        return None

    def encryption_jwk(self, state: str) -> dict[str, Any] | None:
        entry = self.nodes.get(state)
        found = (entry or {}).get("keys", {}).get("enc", [])
        return found[0] if found else None

    @property
    def stale(self) -> bool:
        return self.expires_at <= now()


_cache: dict[str, tuple[float, Directory | None]] = {}


def current(max_age: float = 2.0) -> Directory | None:
    """The newest verified directory this node holds (cached briefly per process)."""
    hit = _cache.get("d")
    if hit and time.monotonic() - hit[0] < max_age:
        return hit[1]
    snap = DirectorySnapshot.objects.order_by("-version").first()
    directory = None
    if snap is not None:
        directory = Directory(
            version=snap.version,
            expires_at=snap.expires_at,
            nodes={
                n["state"]: n
                for n in [*snap.document.get("nodes", []), *filter(None, [snap.document.get("secretariat")])]
            },
            treaty=snap.document.get("treaty") or {},
        )
    _cache["d"] = (time.monotonic(), directory)
    return directory


def require_current() -> Directory:
    directory = current()
    if directory is None:
        raise DirectoryError("this node holds no directory yet: run `hanoi247 directory sync`")
    if directory.stale:
        raise DirectoryError(f"the directory (version {directory.version}) is stale; sync it from the secretariat")
    return directory


def peers() -> list[dict[str, Any]]:
    """Other nodes a request can go to, by State name."""
    directory = current()
    if directory is None:
        return []
    return sorted(
        (n for s, n in directory.nodes.items() if s not in (settings.NODE.state, SECRETARIAT)),
        key=lambda n: n["name"],
    )


# -- the treaty register (signatures, instruments, entry into force) ------------------------

TREATY_CSV_FIELDS = ["participant", "code", "action", "date", "status", "note", "text", "source"]
SHIPPED_CSV = Path(__file__).parent / "data" / "signatures-2025.csv"


class TreatyImportError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


def _parse_row(row: dict[str, Any], where: str) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    name = str(row.get("participant") or "").strip()
    code = str(row.get("code") or "").strip().upper()
    if code:
        participant = code if treaty.is_participant_code(code) else None
        if participant is None:
            errors.append(f"{where}: unknown participant code {code!r}")
    else:
        participant = treaty.resolve(name)
        if participant is None:
            errors.append(f"{where}: unknown participant {name!r}")
    action = str(row.get("action") or "").strip().lower().replace(" ", "_")
    if action not in TreatyAction.Kind.values:
        errors.append(f"{where}: unknown action {action!r}")
    raw_date = str(row.get("date") or "").strip()
    day: date | None = None
    if raw_date:
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            errors.append(f"{where}: date {raw_date!r} is not YYYY-MM-DD")
    raw_status = " ".join(str(row.get("status") or "").split())
    status = next((s for s in TreatyAction.Status.values if raw_status.lower().startswith(s)), None)
    if status is None:
        errors.append(f"{where}: status {raw_status!r} is neither confirmed nor reported")
    elif status == TreatyAction.Status.CONFIRMED and day is None and not raw_date:
        errors.append(f"{where}: a confirmed {action or 'action'} needs a date")
    note = str(row.get("note") or "").strip()
    if not note and status and raw_status.lower() != status:
        note = raw_status
    source = row.get("source") or ""
    if isinstance(source, list):
        source = " ; ".join(str(s) for s in source)
    fields = {
        "participant": participant,
        "action": action,
        "date": day,
        "status": status,
        "note": note[:255],
        "text": str(row.get("text") or "").strip(),
        "source": str(source).strip(),
    }
    return fields, errors


def import_rows(rows: Iterable[tuple[str, dict[str, Any]]]) -> ImportResult:
    """Validate every row, then store them all or none. ``rows`` pairs a location (for error
    messages) with the row. A row equal in participant, action, date and text updates."""
    parsed: list[dict[str, Any]] = []
    errors: list[str] = []
    for where, row in rows:
        fields, row_errors = _parse_row(row, where)
        errors += row_errors
        parsed.append(fields)
    if errors:
        raise TreatyImportError(errors)
    created = updated = 0
    with transaction.atomic():
        for fields in parsed:
            key = {k: fields[k] for k in ("participant", "action", "date", "text")}
            _, made = TreatyAction.objects.update_or_create(
                **key, defaults={k: fields[k] for k in ("status", "note", "source")}
            )
            created += made
            updated += not made
    return ImportResult(created, updated)


def import_csv(file: str | Path | IO[str]) -> ImportResult:
    """Import the register's CSV (participant,action,date,status,source; optionally code, note,
    text). Participants by UN or ISO 3166 name, or by code. All rows or none."""
    if isinstance(file, str | Path):
        with open(file, encoding="utf-8-sig", newline="") as handle:
            return import_csv(handle)
    reader = csv.DictReader(file)
    missing = {"participant", "action", "date", "status"} - set(reader.fieldnames or [])
    if missing:
        raise TreatyImportError([f"row 1: missing column(s) {', '.join(sorted(missing))}"])
    # Row numbers count the header as row 1, as a spreadsheet shows them.
    return import_rows((f"row {n}", row) for n, row in enumerate(reader, start=2))


def import_json(data: str | dict[str, Any]) -> ImportResult:
    document = json.loads(data) if isinstance(data, str) else data
    actions = document.get("actions") if isinstance(document, dict) else None
    if not isinstance(actions, list):
        raise TreatyImportError(["the document has no list of actions"])
    return import_rows((f"action {n}", a if isinstance(a, dict) else {}) for n, a in enumerate(actions, start=1))


def treaty_actions() -> list[TreatyAction]:
    return list(TreatyAction.objects.order_by("participant", "date", "action", "id"))


def export_csv() -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=TREATY_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for a in treaty_actions():
        writer.writerow(
            {
                "participant": treaty.participant_name(a.participant),
                "code": a.participant,
                "action": a.action,
                "date": a.date.isoformat() if a.date else "",
                "status": a.status,
                "note": a.note,
                "text": a.text,
                "source": a.source,
            }
        )
    return out.getvalue()


def export_json() -> str:
    actions = treaty_actions()
    result = treaty.entry_into_force(actions)
    document = {
        "convention": "United Nations Convention against Cybercrime",
        "exported_at": iso(now()),
        "entry_into_force": result.date.isoformat() if result.date else None,
        "instruments_counted": result.counted,
        "instruments_needed": result.needed,
        "actions": [
            {
                "participant": treaty.participant_name(a.participant),
                "code": a.participant,
                "organisation": treaty.is_organisation(a.participant),
                "action": a.action,
                "date": a.date.isoformat() if a.date else None,
                "status": a.status,
                "note": a.note,
                "text": a.text,
                "source": [s.strip() for s in a.source.split(" ; ") if s.strip()],
            }
            for a in actions
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
