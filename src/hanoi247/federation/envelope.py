"""Federation v1 envelopes: a JSON message signed by its sender (JWS, alg Ed25519) and
encrypted to its recipient (JWE, ECDH-ES with X25519, A256GCM). See docs/protocol.md.

This module is pure: it knows keys and bytes, not the database or the directory.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter

PROTOCOL_VERSION = 1
ENVELOPE_TYP = "hanoi247-envelope+jwe"
MESSAGE_TYP = "hanoi247-message+jws"
RECEIPT_TYP = "hanoi247-receipt+jws"
SIGN_ALG = "Ed25519"

_routing = {
    "h247_sender": HeaderParameter("Sending State", "str", required=True),
    "h247_recipient": HeaderParameter("Receiving State", "str", required=True),
}
JWE_REGISTRY = jwe.JWERegistry(header_registry=_routing, algorithms=["ECDH-ES", "A256GCM"])
JWS_REGISTRY = jws.JWSRegistry(algorithms=[SIGN_ALG])

MESSAGE_FIELDS = {
    "v",
    "id",
    "type",
    "sender",
    "recipient",
    "created_at",
    "expires_at",
    "in_reply_to",
    "case_ref",
    "seq",
    "handling",
    "body",
}

# Handling codes (TLP 2.0, FIRST): every message says how its content may be passed on.
HANDLING_CODES = ("TLP:RED", "TLP:AMBER+STRICT", "TLP:AMBER", "TLP:GREEN", "TLP:CLEAR")


class EnvelopeError(Exception):
    """An envelope we refuse. ``status`` is the HTTP status the inbox answers with."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7)."""
    import os
    import time

    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64
    value |= 0b10 << 62 | rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a timestamp")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("timestamp without time zone")
    return moment


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def new_message(
    *,
    type: str,
    sender: str,
    recipient: str,
    body: dict[str, Any],
    case_ref: str = "",
    seq: int = 1,
    in_reply_to: str | None = None,
    ttl: timedelta = timedelta(days=7),
    message_id: str | None = None,
    created_at: datetime | None = None,
    handling: str = "TLP:AMBER+STRICT",
) -> dict[str, Any]:
    created = created_at or now()
    return {
        "v": PROTOCOL_VERSION,
        "id": message_id or str(uuid7()),
        "type": type,
        "sender": sender,
        "recipient": recipient,
        "created_at": iso(created),
        "expires_at": iso(created + ttl),
        "in_reply_to": in_reply_to,
        "case_ref": case_ref,
        "seq": seq,
        "handling": handling,
        "body": body,
    }


def seal(message: dict[str, Any], *, signing_key: OKPKey, recipient_key: dict[str, Any]) -> str:
    """Sign ``message`` with the sender's key, then encrypt it to the recipient's public
    X25519 key. The outer header carries only routing fields."""
    signed = jws.serialize_compact(
        {"alg": SIGN_ALG, "kid": signing_key.kid, "typ": MESSAGE_TYP},
        canonical(message),
        signing_key,
        registry=JWS_REGISTRY,
    )
    header = {
        "alg": "ECDH-ES",
        "enc": "A256GCM",
        "kid": recipient_key["kid"],
        "typ": ENVELOPE_TYP,
        "h247_sender": message["sender"],
        "h247_recipient": message["recipient"],
    }
    return jwe.encrypt_compact(header, signed.encode(), OKPKey.import_key(recipient_key), registry=JWE_REGISTRY)


@dataclass(frozen=True)
class Opened:
    message: dict[str, Any]
    signed: str  # the sender's JWS, kept as proof of what was sent
    sender_kid: str
    digest: str  # SHA-256 of the envelope as received


KeyLookup = Callable[[str, str], OKPKey | None]


def _header(token: str) -> dict[str, Any]:
    import base64

    first = token.split(".", 1)[0]
    try:
        data = json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError(400, "malformed", f"envelope header is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EnvelopeError(400, "malformed", "envelope header is not a JSON object")
    return data


def routing_header(token: str) -> dict[str, Any]:
    """The outer JWE header, read without decrypting (routing fields only)."""
    return _header(token)


def open_envelope(
    token: str,
    *,
    me: str,
    my_keys: dict[str, OKPKey],
    sender_key: KeyLookup,
    at: datetime | None = None,
    skew: timedelta = timedelta(minutes=5),
) -> Opened:
    """Decrypt, verify and check an envelope addressed to State ``me``.

    Refuses (EnvelopeError) anything malformed, misaddressed, undecryptable, unsigned or
    signed by a key the directory does not give the claimed sender, expired, or from the
    future beyond the tolerated clock skew.
    """
    moment = at or now()
    if token.count(".") != 4:
        raise EnvelopeError(400, "malformed", "envelope is not a compact JWE")
    header = _header(token)
    if header.get("typ") != ENVELOPE_TYP:
        raise EnvelopeError(400, "malformed", "envelope has the wrong typ")
    if header.get("h247_recipient") != me:
        raise EnvelopeError(421, "misaddressed", f"envelope is addressed to {header.get('h247_recipient')!r}, not {me}")
    key = my_keys.get(str(header.get("kid")))
    if key is None:
        raise EnvelopeError(400, "unknown_key", "envelope is encrypted to a key this node does not hold")
    try:
        signed = jwe.decrypt_compact(token, key, registry=JWE_REGISTRY).plaintext
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise EnvelopeError(400, "undecryptable", f"envelope does not decrypt: {exc}") from None
    if signed is None:
        raise EnvelopeError(400, "undecryptable", "envelope is empty")
    try:
        signed_text = signed.decode("ascii")
        inner = _header(signed_text)
    except (UnicodeDecodeError, EnvelopeError):
        raise EnvelopeError(400, "malformed", "encrypted content is not a compact JWS") from None
    if inner.get("typ") != MESSAGE_TYP:
        raise EnvelopeError(400, "malformed", "encrypted content is not a Hanoi 24/7 message")
    claimed = header.get("h247_sender")
    verify_key = sender_key(str(claimed), str(inner.get("kid")))
    if verify_key is None:
        raise EnvelopeError(403, "unknown_sender", f"no directory key {inner.get('kid')!r} for sender {claimed!r}")
    try:
        payload = jws.deserialize_compact(signed_text, verify_key, registry=JWS_REGISTRY).payload
        message = json.loads(payload)
    except (JoseError, ValueError, TypeError) as exc:
        raise EnvelopeError(403, "bad_signature", f"signature does not verify: {exc}") from None
    _check_message(message, me=me, claimed_sender=str(claimed), moment=moment, skew=skew)
    digest = hashlib.sha256(token.encode()).hexdigest()
    return Opened(message=message, signed=signed_text, sender_kid=str(inner.get("kid")), digest=digest)


def _check_message(message: Any, *, me: str, claimed_sender: str, moment: datetime, skew: timedelta) -> None:
    if not isinstance(message, dict) or set(message) != MESSAGE_FIELDS:
        raise EnvelopeError(400, "malformed", "message does not have the v1 fields")
    if message["v"] != PROTOCOL_VERSION:
        raise EnvelopeError(400, "unsupported_version", f"protocol version {message['v']!r} is not supported")
    if message["sender"] != claimed_sender:
        raise EnvelopeError(403, "sender_mismatch", "signed sender differs from the routing header")
    if message["recipient"] != me:
        raise EnvelopeError(421, "misaddressed", f"message is addressed to {message['recipient']!r}, not {me}")
    if not isinstance(message["type"], str) or len(message["type"]) > 64 or not isinstance(message["body"], dict):
        raise EnvelopeError(400, "malformed", "message type or body has the wrong form")
    if not isinstance(message["seq"], int) or isinstance(message["seq"], bool) or message["seq"] < 1:
        raise EnvelopeError(400, "malformed", "message seq must be a positive integer")
    if not isinstance(message["case_ref"], str) or not 0 < len(message["case_ref"]) <= 64:
        raise EnvelopeError(400, "malformed", "message case_ref must be a string of 1 to 64 characters")
    if message["handling"] not in HANDLING_CODES:
        raise EnvelopeError(400, "malformed", f"message handling code must be one of {', '.join(HANDLING_CODES)}")
    try:
        uuid.UUID(str(message["id"]))
        created, expires = parse_time(message["created_at"]), parse_time(message["expires_at"])
    except (ValueError, TypeError):
        raise EnvelopeError(400, "malformed", "message id or timestamps are malformed") from None
    if created > moment + skew:
        raise EnvelopeError(400, "from_the_future", "message was created in the future beyond clock-skew tolerance")
    if expires < moment - skew:
        raise EnvelopeError(410, "expired", f"message expired at {message['expires_at']}")


def sign_receipt(opened: Opened, *, signing_key: OKPKey, received_at: datetime) -> str:
    """The recipient's signed proof of delivery."""
    body = {
        "message_id": opened.message["id"],
        "sender": opened.message["sender"],
        "recipient": opened.message["recipient"],
        "envelope_sha256": opened.digest,
        "received_at": iso(received_at),
    }
    return jws.serialize_compact(
        {"alg": SIGN_ALG, "kid": signing_key.kid, "typ": RECEIPT_TYP},
        canonical(body),
        signing_key,
        registry=JWS_REGISTRY,
    )


def verify_receipt(receipt: str, *, recipient_key: KeyLookup, recipient: str, message_id: str) -> dict[str, Any]:
    try:
        header = _header(receipt)
        if header.get("typ") != RECEIPT_TYP:
            raise EnvelopeError(502, "bad_receipt", "not a Hanoi 24/7 receipt")
        key = recipient_key(recipient, str(header.get("kid")))
        if key is None:
            raise EnvelopeError(502, "unknown_key", "receipt signed with a key not in the directory")
        body: dict[str, Any] = json.loads(jws.deserialize_compact(receipt, key, registry=JWS_REGISTRY).payload)
    except (JoseError, ValueError, TypeError) as exc:
        raise EnvelopeError(502, "bad_receipt", f"receipt does not verify: {exc}") from None
    if body.get("message_id") != message_id or body.get("recipient") != recipient:
        raise EnvelopeError(502, "bad_receipt", "receipt is for another message")
    return body
