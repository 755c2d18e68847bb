"""Log-in: password (argon2 in production) then TOTP for every officer role."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from hanoi247.accounts.models import ApiToken
from tests.conftest import PASSWORD


def code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def test_production_hashes_passwords_with_argon2() -> None:
    from django.contrib.auth.hashers import Argon2PasswordHasher

    import hanoi247.settings as production

    assert production.PASSWORD_HASHERS == ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    encoded = Argon2PasswordHasher().encode("secret", Argon2PasswordHasher().salt())
    assert encoded.startswith("argon2$argon2id$") and Argon2PasswordHasher().verify("secret", encoded)


def test_password_alone_does_not_log_an_officer_in(personas: Any) -> None:
    TOTPDevice.objects.create(user=personas["officer"], name="phone", confirmed=True)
    client = Client()
    response = client.post("/accounts/login/", {"username": "officer", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"
    assert client.get("/").status_code == 302  # the desk is still closed


def test_password_and_code_log_in(personas: Any) -> None:
    device = TOTPDevice.objects.create(user=personas["officer"], name="phone", confirmed=True)
    client = Client()
    client.post("/accounts/login/", {"username": "officer", "password": PASSWORD})
    wrong = client.post("/accounts/login/code/", {"token": "000000" if code(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "not valid" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post("/accounts/login/code/", {"token": code(device)})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_gets_a_clear_message(personas: Any) -> None:
    response = Client().post("/accounts/login/", {"username": "officer", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_first_log_in_enrols_an_authenticator(personas: Any) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "central", "password": PASSWORD})
    assert response["Location"] == "/accounts/login/enrol/"
    page = client.get("/accounts/login/enrol/")
    assert page.status_code == 200 and b"data:image/svg+xml" in page.content
    device = TOTPDevice.objects.get(user=personas["central"], confirmed=False)
    response = client.post("/accounts/login/enrol/", {"token": code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200


def test_code_step_without_password_goes_back_to_log_in(db: None) -> None:
    assert Client().get("/accounts/login/code/")["Location"] == "/accounts/login/"
    assert Client().get("/accounts/login/enrol/")["Location"] == "/accounts/login/"


def test_malformed_code_is_a_form_error(personas: Any) -> None:
    TOTPDevice.objects.create(user=personas["officer"], name="phone", confirmed=True)
    client = Client()
    client.post("/accounts/login/", {"username": "officer", "password": PASSWORD})
    response = client.post("/accounts/login/code/", {"token": "12ab56"})
    assert response.status_code == 200 and "digits only" in response.content.decode()


def test_api_tokens_are_stored_hashed(personas: Any) -> None:
    row, token = ApiToken.issue(personas["officer"], "script")
    assert token.startswith("h247_") and token not in row.digest and row.digest == ApiToken.hash(token)


def test_the_admin_asks_for_the_second_factor_too(personas: Any) -> None:
    client = Client()
    client.force_login(personas["admin"])
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert b"otp_token" in client.get("/admin/login/").content


def test_public_url_is_a_trusted_origin_for_forms() -> None:
    from django.conf import settings

    assert "http://127.0.0.1:1" in settings.CSRF_TRUSTED_ORIGINS


def test_after_the_code_the_officer_lands_where_they_were_going(personas: Any) -> None:
    device = TOTPDevice.objects.create(user=personas["officer"], name="phone", confirmed=True)
    client = Client()
    client.post("/accounts/login/?next=/requests/new/preservation/", {"username": "officer", "password": PASSWORD})
    response = client.post("/accounts/login/code/", {"token": code(device)})
    assert response["Location"] == "/requests/new/preservation/"


def test_an_unsafe_next_is_ignored(personas: Any) -> None:
    device = TOTPDevice.objects.create(user=personas["officer"], name="phone", confirmed=True)
    client = Client()
    client.post("/accounts/login/?next=https://evil.invalid/", {"username": "officer", "password": PASSWORD})
    assert client.post("/accounts/login/code/", {"token": code(device)})["Location"] == "/"


def test_administrators_land_in_the_admin(personas: Any) -> None:
    device = TOTPDevice.objects.create(user=personas["admin"], name="phone", confirmed=True)
    client = Client()
    client.post("/accounts/login/", {"username": "admin", "password": PASSWORD})
    assert client.post("/accounts/login/code/", {"token": code(device)})["Location"] == "/admin/"


def test_each_node_names_its_own_cookies() -> None:
    from django.conf import settings

    assert settings.SESSION_COOKIE_NAME == "h247_vnm_session" and settings.CSRF_COOKIE_NAME == "h247_vnm_csrf"
