"""Federation v1 envelopes: sealed by one key pair, opened only as intended."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hanoi247.federation.envelope import (
    EnvelopeError,
    new_message,
    now,
    open_envelope,
    seal,
    sign_receipt,
    verify_receipt,
)
from tests.conftest import make_key, public

SENDER_SIG = make_key("Ed25519")
OTHER_SIG = make_key("Ed25519")
RECIPIENT_ENC = make_key("X25519")
OTHER_ENC = make_key("X25519")


def directory_keys(state: str, kid: str) -> Any:
    return {("VNM", SENDER_SIG.kid): SENDER_SIG, ("BRA", OTHER_SIG.kid): OTHER_SIG}.get((state, kid))


def message(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "type": "request.submitted",
        "sender": "VNM",
        "recipient": "FRA",
        "body": {"hello": "world"},
        "case_ref": "case-1",
        "seq": 1,
    }
    fields.update(overrides)
    return new_message(**fields)


def sealed(msg: dict[str, Any] | None = None, *, sig: Any = SENDER_SIG, enc: Any = RECIPIENT_ENC) -> str:
    return seal(msg or message(), signing_key=sig, recipient_key=public(enc))


def open_(token: str, **kwargs: Any) -> Any:
    return open_envelope(
        token, me="FRA", my_keys={RECIPIENT_ENC.kid: RECIPIENT_ENC}, sender_key=directory_keys, **kwargs
    )


def test_round_trip_keeps_the_message_and_its_signature() -> None:
    msg = message()
    opened = open_(sealed(msg))
    assert opened.message == msg
    assert opened.sender_kid == SENDER_SIG.kid
    assert opened.signed.count(".") == 2  # the sender's JWS, kept as proof


def test_outer_header_carries_routing_only() -> None:
    import base64
    import json

    token = sealed()
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert set(header) == {"alg", "enc", "kid", "typ", "h247_sender", "h247_recipient", "epk"}
    assert "hello" not in token


@pytest.mark.parametrize("part", [0, 2, 3, 4])  # part 1, the encrypted key, is empty with ECDH-ES
def test_a_flipped_bit_in_any_part_is_refused(part: int) -> None:
    token = sealed()
    parts = token.split(".")
    chars = list(parts[part])
    i = len(chars) // 2
    chars[i] = "A" if chars[i] != "A" else "B"
    parts[part] = "".join(chars)
    with pytest.raises(EnvelopeError) as refused:
        open_(".".join(parts))
    assert 400 <= refused.value.status < 500


def test_misaddressed_envelope_is_refused() -> None:
    with pytest.raises(EnvelopeError) as refused:
        open_(sealed(message(recipient="BRA")))
    assert (refused.value.status, refused.value.code) == (421, "misaddressed")


def test_envelope_for_another_key_is_refused() -> None:
    with pytest.raises(EnvelopeError) as refused:
        open_(sealed(enc=OTHER_ENC))
    assert refused.value.code == "unknown_key"


def test_signature_by_another_states_key_is_refused() -> None:
    # BRA signs a message claiming to come from VNM: the directory gives VNM no such key.
    with pytest.raises(EnvelopeError) as refused:
        open_(sealed(sig=OTHER_SIG))
    assert (refused.value.status, refused.value.code) == (403, "unknown_sender")


def test_expired_message_is_refused() -> None:
    old = message(created_at=now() - timedelta(days=9), ttl=timedelta(days=1))
    with pytest.raises(EnvelopeError) as refused:
        open_(sealed(old))
    assert (refused.value.status, refused.value.code) == (410, "expired")


def test_clock_skew_within_tolerance_is_accepted_beyond_it_refused() -> None:
    open_(sealed(message(created_at=now() + timedelta(minutes=4))))
    with pytest.raises(EnvelopeError) as refused:
        open_(sealed(message(created_at=now() + timedelta(minutes=10))))
    assert refused.value.code == "from_the_future"


@pytest.mark.parametrize(
    "field,value",
    [
        ("seq", -1),
        ("seq", "1"),
        ("seq", True),
        ("body", []),
        ("id", "not-a-uuid"),
        ("created_at", "yesterday"),
        ("v", 2),
    ],
)
def test_malformed_fields_are_refused(field: str, value: Any) -> None:
    msg = message()
    msg[field] = value
    with pytest.raises(EnvelopeError) as refused:
        open_(sealed(msg))
    assert 400 <= refused.value.status < 500


def test_extra_or_missing_fields_are_refused() -> None:
    msg = message()
    msg["extra"] = 1
    with pytest.raises(EnvelopeError):
        open_(sealed(msg))
    msg = message()
    del msg["case_ref"]
    with pytest.raises(EnvelopeError):
        open_(sealed(msg))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_garbage_is_refused_with_a_4xx(garbage: str) -> None:
    with pytest.raises(EnvelopeError) as refused:
        open_(garbage)
    assert 400 <= refused.value.status < 500


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_corruption_of_a_real_envelope_is_refused(data: st.DataObject) -> None:
    token = sealed()
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/"))
    if token[position] == replacement:
        return
    corrupted = token[:position] + replacement + token[position + 1 :]
    try:
        opened = open_(corrupted)
    except EnvelopeError as refused:
        assert 400 <= refused.status < 500
    else:
        # Base64url has slack bits in the last character of a part: such a change decodes to
        # the same bytes, so the message is the original, not a forgery.
        assert opened.message == open_(token).message


def test_receipt_is_bound_to_its_message() -> None:
    opened = open_(sealed())
    receipt = sign_receipt(opened, signing_key=SENDER_SIG, received_at=now())
    lookup = lambda state, kid: SENDER_SIG if kid == SENDER_SIG.kid else None  # noqa: E731
    body = verify_receipt(receipt, recipient_key=lookup, recipient="FRA", message_id=opened.message["id"])
    assert body["envelope_sha256"] == opened.digest
    with pytest.raises(EnvelopeError):
        verify_receipt(receipt, recipient_key=lookup, recipient="FRA", message_id="another")
    with pytest.raises(EnvelopeError):
        verify_receipt(receipt[:-3] + "AAA", recipient_key=lookup, recipient="FRA", message_id=opened.message["id"])
