"""STIX 2.1 bundles of indicators, with TLP 2.0 markings.

The TLP 2.0 marking definitions are the ones OASIS publishes with the TLP 2.0 extension
(cti-stix-common-objects, extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d):
fixed ids, so every STIX tool recognises them. The stix2 library ships only TLP 1.0 ones;
bundles using those are still read (WHITE as CLEAR).
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stix2
from stix2validator import ValidationOptions, validate_string

from hanoi247.cooperation.models import Handling
from hanoi247.indicators.models import Indicator, Kind
from hanoi247.states import state_name

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
TLP2_IDS: dict[str, str] = {
    Handling.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Handling.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Handling.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Handling.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Handling.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP1_IDS: dict[str, str] = {
    str(stix2.TLP_WHITE.id): Handling.CLEAR,
    str(stix2.TLP_GREEN.id): Handling.GREEN,
    str(stix2.TLP_AMBER.id): Handling.AMBER,
    str(stix2.TLP_RED.id): Handling.RED,
}
# Strictest first: a bundle carries the strictest handling of what it holds.
STRICTNESS: list[str] = [Handling.RED, Handling.AMBER_STRICT, Handling.AMBER, Handling.GREEN, Handling.CLEAR]
IDENTITY_NAMESPACE = uuid.UUID("5d1f9f3e-7c1a-4b9e-9d57-2a3b0c4d5e6f")

PATTERNS: dict[str, str] = {
    Kind.IPV4: "ipv4-addr:value",
    Kind.IPV6: "ipv6-addr:value",
    Kind.DOMAIN: "domain-name:value",
    Kind.URL: "url:value",
    Kind.MD5: "file:hashes.MD5",
    Kind.SHA1: "file:hashes.'SHA-1'",
    Kind.SHA256: "file:hashes.'SHA-256'",
    Kind.EMAIL: "email-addr:value",
    # STIX 2.1 has no wallet object; a custom one, as the spec allows (x- prefix).
    Kind.WALLET: "x-cryptocurrency-wallet:address",
}
KIND_OF_PATH = {path: kind for kind, path in PATTERNS.items()}
PATTERN_RE = re.compile(r"^\[(?P<path>[a-z0-9-]+:[A-Za-z0-9_.'-]+) = '(?P<value>(?:[^'\\]|\\.)*)'\]$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
HEX_LENGTH: dict[str, int] = {Kind.MD5: 32, Kind.SHA1: 40, Kind.SHA256: 64}
WALLET_RE = re.compile(r"^[A-Za-z0-9:]{20,128}$")


class StixError(ValueError):
    pass


def strictest(codes: Sequence[str]) -> str:
    found = [c for c in STRICTNESS if c in codes]
    return found[0] if found else Handling.AMBER_STRICT


def marking(handling: str) -> dict[str, Any]:
    """The OASIS TLP 2.0 marking definition of a handling code."""
    level = handling.removeprefix("TLP:").lower()
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[handling],
        "created": TLP2_CREATED,
        "name": handling,
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def handling_of(marking_refs: list[str]) -> str | None:
    """The handling code of a set of marking references (TLP 2.0, or TLP 1.0 mapped)."""
    by_id = {v: k for k, v in TLP2_IDS.items()} | TLP1_IDS
    codes = [by_id[r] for r in marking_refs if r in by_id]
    return strictest(codes) if codes else None


def clean_value(kind: str, value: str) -> str:
    """The canonical form of an indicator value, or StixError."""
    value = value.strip()
    if kind in (Kind.IPV4, Kind.IPV6):
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise StixError(f"{value!r} is not an IP address or network") from None
        if (network.version == 4) != (kind == Kind.IPV4):
            raise StixError(f"{value!r} is not an {'IPv4' if kind == Kind.IPV4 else 'IPv6'} address")
        single = network.num_addresses == 1 and "/" not in value
        return str(network.network_address) if single else str(network)
    if kind == Kind.DOMAIN:
        value = value.lower().rstrip(".")
        if not DOMAIN_RE.match(value):
            raise StixError(f"{value!r} is not a domain name")
        return value
    if kind == Kind.URL:
        if not re.match(r"^[a-z][a-z0-9+.-]*://\S+$", value, re.IGNORECASE):
            raise StixError(f"{value!r} is not a URL")
        return value
    if kind in HEX_LENGTH:
        value = value.lower()
        if len(value) != HEX_LENGTH[kind] or not all(c in "0123456789abcdef" for c in value):
            raise StixError(f"{value!r} is not a {kind.upper()} hash ({HEX_LENGTH[kind]} hex digits)")
        return value
    if kind == Kind.EMAIL:
        if not EMAIL_RE.match(value):
            raise StixError(f"{value!r} is not an e-mail address")
        return value
    if kind == Kind.WALLET:
        if not WALLET_RE.match(value):
            raise StixError(f"{value!r} is not a wallet address")
        return value
    raise StixError(f"unknown indicator kind {kind!r}")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _unquote(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def pattern(kind: str, value: str) -> str:
    return f"[{PATTERNS[kind]} = '{_quote(value)}']"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def identity(state: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid5(IDENTITY_NAMESPACE, state)}",
        "created": "2025-01-01T00:00:00.000Z",
        "modified": "2025-01-01T00:00:00.000Z",
        "name": f"{state_name(state)} ({state})",
        "identity_class": "organization",
        "sectors": ["government-national"],
    }


def indicator_object(row: Indicator, creator: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": row.stix_id,
        "created_by_ref": creator,
        "created": _stamp(row.created_at),
        "modified": _stamp(row.created_at),
        "name": f"{Kind(row.kind).label}: {row.value}"[:250],
        "description": row.description or f"{Kind(row.kind).label} of a case handled through Hanoi 24/7",
        "indicator_types": ["malicious-activity"],
        "pattern": pattern(row.kind, row.value),
        "pattern_type": "stix",
        "valid_from": _stamp(row.created_at),
        "object_marking_refs": [TLP2_IDS[row.handling]],
    }
    if row.kind == Kind.WALLET and row.currency:
        obj["labels"] = [f"currency:{row.currency}"]
    return obj


def bundle(rows: list[Indicator], *, state: str) -> dict[str, Any]:
    """A STIX 2.1 bundle: the sending State's identity, the TLP 2.0 markings used, and
    one indicator per row."""
    creator = identity(state)
    markings = [marking(h) for h in STRICTNESS if any(r.handling == h for r in rows)]
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [*markings, creator, *(indicator_object(r, creator["id"]) for r in rows)],
    }


def validate(document: dict[str, Any] | str) -> None:
    """Refuse what stix2-validator finds invalid (errors, not warnings)."""
    text = document if isinstance(document, str) else json.dumps(document)
    try:
        result = validate_string(text, ValidationOptions(version="2.1"))
    except Exception as exc:  # the validator raises on malformed JSON and the like
        raise StixError(f"not a STIX 2.1 document: {exc}") from None
    if not result.is_valid:
        problems = [str(e) for e in getattr(result, "errors", [])][:5]
        raise StixError("the bundle is not valid STIX 2.1: " + ("; ".join(problems) or "see stix2-validator"))


@dataclass(frozen=True)
class Parsed:
    stix_id: str
    kind: str
    value: str
    currency: str
    description: str
    handling: str


def parse(document: dict[str, Any] | str) -> tuple[list[Parsed], list[str]]:
    """Validate, then read the indicators whose pattern is one comparison of a kind this
    node knows. Returns them and what was skipped (with why)."""
    validate(document)
    try:
        parsed = stix2.parse(document, allow_custom=True)
    except Exception as exc:  # stix2 raises many exception types for one malformed object
        raise StixError(f"the bundle cannot be read: {exc}") from None
    objects = list(getattr(parsed, "objects", None) or [])
    bundle_handling = handling_of([str(o["id"]) for o in objects if o["type"] == "marking-definition"])
    found: list[Parsed] = []
    skipped: list[str] = []
    for obj in objects:
        if obj["type"] != "indicator":
            continue
        match = PATTERN_RE.match(str(obj.get("pattern", "")).strip()) if obj.get("pattern_type") == "stix" else None
        kind = KIND_OF_PATH.get(match["path"]) if match else None
        if match is None or kind is None:
            skipped.append(f"{obj['id']}: pattern not understood")
            continue
        try:
            value = clean_value(kind, _unquote(match["value"]))
        except StixError as exc:
            skipped.append(f"{obj['id']}: {exc}")
            continue
        labels = [str(label) for label in obj.get("labels", []) or []]
        currency = next((label.split(":", 1)[1] for label in labels if label.startswith("currency:")), "")
        refs = [str(r) for r in obj.get("object_marking_refs", []) or []]
        found.append(
            Parsed(
                stix_id=str(obj["id"]),
                kind=kind,
                value=value,
                currency=currency[:16],
                description=str(obj.get("description", ""))[:5000],
                # Unmarked content is treated as the bundle's strictest marking, else AMBER+STRICT.
                handling=handling_of(refs) or bundle_handling or Handling.AMBER_STRICT,
            )
        )
    return found, skipped
