"""Six UN languages (issue #7): every message of the UI is translated in the five catalogs,
the compiled catalogs are those of the sources, and no message in the code is missing from
them — a string added without its translations fails here until it is translated
(docs/i18n.md says how: ``python locale/fill.py``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "hanoi247"
LOCALE = PACKAGE / "locale"
CATALOGS = {"ar": 6, "zh_Hans": 1, "fr": 2, "ru": 3, "es": 2}  # catalog → number of plural forms
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sdr]|\{[a-z_0-9]*\}|%[sd]")
TAG = re.compile(r"</?[a-z]+[^>]*>")


def _catalog(code: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / code / "LC_MESSAGES" / "django.po"))


def _key(entry: polib.POEntry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def _texts(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


@pytest.mark.parametrize("code", CATALOGS)
def test_every_message_is_translated(code: str) -> None:
    po = _catalog(code)
    assert not po.metadata_is_fuzzy, f"{code}: the catalog's header is marked fuzzy"
    untranslated = [e.msgid for e in po if not e.obsolete and not all(t.strip() for t in _texts(e))]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert not untranslated, f"{code}: {len(untranslated)} messages without a translation, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{code}: {len(fuzzy)} fuzzy translations, e.g. {fuzzy[:5]}"
    for entry in po:
        if entry.msgid_plural:
            assert len(entry.msgstr_plural) == CATALOGS[code], f"{code}: {entry.msgid!r} needs {CATALOGS[code]} forms"


@pytest.mark.parametrize("code", CATALOGS)
def test_translations_keep_placeholders_and_markup(code: str) -> None:
    """A translation that loses ``%(name)s`` crashes at run time; one that loses a tag breaks the page."""
    for entry in _catalog(code):
        for text in _texts(entry):
            source = entry.msgid_plural if entry.msgid_plural and text is not entry.msgstr else entry.msgid
            wanted = sorted(set(PLACEHOLDER.findall(entry.msgid)) | set(PLACEHOLDER.findall(entry.msgid_plural or "")))
            got = sorted(set(PLACEHOLDER.findall(text)))
            # One plural form may leave out the number (Arabic "one" and "two" forms say it in words).
            assert set(got) <= set(wanted), f"{code}: {entry.msgid!r} → {text!r}: unknown placeholder"
            if not entry.msgid_plural:
                assert got == wanted, f"{code}: {entry.msgid!r} → {text!r}: placeholders differ"
            assert sorted(TAG.findall(source)) == sorted(TAG.findall(text)) or entry.msgid_plural, (
                f"{code}: {entry.msgid!r} → {text!r}: markup differs"
            )


@pytest.mark.parametrize("code", CATALOGS)
def test_compiled_catalogs_match_their_sources(code: str) -> None:
    """The .mo files served are those of the .po files (``locale/fill.py`` writes both)."""
    po = {_key(e): _texts(e) for e in _catalog(code) if not e.obsolete}
    mo = {_key(e): _texts(e) for e in polib.mofile(str(LOCALE / code / "LC_MESSAGES" / "django.mo"))}
    mo.pop(("", ""), None)
    assert po == mo, f"{code}: django.mo is out of date: run `python locale/fill.py` in src/hanoi247"


def test_no_message_in_the_code_is_missing_from_the_catalogs(tmp_path: Path) -> None:
    """makemessages on a copy of the package finds nothing that the catalogs lack."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext (xgettext) is needed to extract the messages: apt-get install gettext")
    copy = tmp_path / "hanoi247"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "*.po"))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "--no-location", "--ignore=locale/*", "-l", "fr"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = {_key(e) for e in polib.pofile(str(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"))}
    found.discard(("", ""))
    for code in CATALOGS:
        known = {_key(e) for e in _catalog(code) if not e.obsolete}
        new = sorted(msgid for _, msgid in found - known)
        assert not new, (
            f"{len(new)} messages are not in the {code} catalog yet (translate them: docs/i18n.md), e.g. {new[:8]}"
        )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ar", "تسجيل الدخول"),
        ("zh-hans", "登录"),
        ("fr", "Connexion"),
        ("ru", "Вход"),
        ("es", "Iniciar sesión"),
    ],
)
def test_the_browser_preference_chooses_the_language(db: None, code: str, expected: str) -> None:
    page = Client(headers={"accept-language": f"{code},en;q=0.5"}).get("/accounts/login/")
    html = page.content.decode()
    assert f'lang="{code}"' in html
    assert expected in html
    assert ('dir="rtl"' in html) == (code == "ar")


def test_the_language_chosen_is_remembered_per_node(db: None) -> None:
    client = Client(headers={"accept-language": "fr"})
    chosen = client.post("/i18n/setlang/", {"language": "ru", "next": "/accounts/login/"})
    assert chosen.status_code == 302
    cookie = settings.LANGUAGE_COOKIE_NAME
    assert cookie.startswith("h247_") and cookie != "django_language", "two nodes on one host would share it"
    assert chosen.cookies[cookie].value == "ru"
    assert 'lang="ru"' in client.get("/accounts/login/").content.decode()


def test_schema_elements_and_their_problems_are_translated(db: None) -> None:
    """Element titles are marked in the schemas and translated where they are shown."""
    from hanoi247.cooperation.forms import specs
    from hanoi247.cooperation.schemas import REQUEST_TYPES, problems

    kind = REQUEST_TYPES["preservation"]
    with translation.override("fr"):
        titles = {str(s.title) for s in specs(kind.schema)}
        found = [m.message for m in problems(kind, {"identifiers": [{"kind": "ip_address", "value": "203.0.113.7"}]})]
    with translation.override("en"):
        english = {str(s.title) for s in specs(kind.schema)}
    assert "Custodian of the data" in english
    assert "Custodian of the data" not in titles, "specs are cached: their titles must stay lazy"
    assert found and not any("missing (" in text for text in found), found


def test_pages_and_static_files_are_compressed_but_not_secrets(db: None) -> None:
    """Light (issue #7): gzip on pages, CSS and JS; not on the pages that show a secret (ADR 0017)."""
    client = Client(headers={"accept-encoding": "gzip, deflate"})
    page = client.get("/treaty/")
    assert page.status_code == 200 and page["Content-Encoding"] == "gzip"
    css = client.get("/static/hanoi247/site.css")
    assert css.status_code == 200 and css["Content-Encoding"] == "gzip"
    login = client.get("/accounts/login/")
    assert login.status_code == 200 and not login.has_header("Content-Encoding")
