"""Locale-aware pieces of text that gettext alone cannot produce (issue #7, docs/i18n.md)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import formats, timezone
from django.utils.translation import get_language, gettext

# "Art. 42 (c)", "Arts. 16, 34", "Art. 42 (c); Art. 2": the references the schemas and pages give.
_ARTICLE = re.compile(r"\b(Arts?)\. (\d+(?:(?:-|\u2013|, )\d+)*)(?: \(([a-z])\))?")
# Subparagraph letters as the Arabic text of UN conventions numbers them.
_ARABIC_LETTERS = dict(zip("abcdefghij", ["أ", "ب", "ج", "د", "هـ", "و", "ز", "ح", "ط", "ي"], strict=True))


def articles(text: Any) -> str:
    """``text`` with each article reference in the language of the request ("Art. 42 (c)" →
    "art. 42 (c)", "المادة 42 (ج)", "第42条 (c)"…); anything else is left as it is."""
    arabic = (get_language() or "").startswith("ar")

    def one(match: re.Match[str]) -> str:
        kind, numbers, letter = match.groups()
        if kind == "Arts":
            label = gettext("Arts. %(numbers)s") % {"numbers": numbers}
        else:
            label = gettext("Art. %(number)s") % {"number": numbers}
        if letter:
            label += f" ({_ARABIC_LETTERS.get(letter, letter) if arabic else letter})"
        return label

    return _ARTICLE.sub(one, str(text))


def local_time(value: datetime | None, zone: str | None = None) -> str:
    """A moment in UTC and, when it differs, in ``zone`` (the node's), each in the locale's
    format: "25/11/2026 07:30 UTC (14:30 Asia/Ho_Chi_Minh)"."""
    if value is None:
        return ""
    utc = timezone.localtime(value, ZoneInfo("UTC"))
    shown = f"{formats.date_format(utc, 'SHORT_DATETIME_FORMAT')} UTC"
    if zone and zone.upper() not in {"UTC", "GMT", "ETC/UTC"}:
        try:
            there = timezone.localtime(value, ZoneInfo(zone))
        except (KeyError, ValueError):
            return shown
        same_day = there.date() == utc.date()
        time = (
            formats.time_format(there, "TIME_FORMAT")
            if same_day
            else formats.date_format(there, "SHORT_DATETIME_FORMAT")
        )
        shown += f" ({time} {zone})"
    return shown


# pycountry's ISO 3166 catalogs, by the UI's language codes.
_ISO_LOCALES = {"ar": "ar", "zh-hans": "zh_CN", "fr": "fr", "ru": "ru", "es": "es"}


def state_name(code: str) -> str:
    """A State's name in the page's language (ISO 3166 names, translated by pycountry's
    catalogs); the secretariat by its own message; any other code as it is."""
    import gettext as gnu_gettext

    import pycountry

    from hanoi247.states import SECRETARIAT
    from hanoi247.states import state_name as english

    if code == SECRETARIAT:
        return gettext("United Nations (secretariat)")
    name = english(code)
    locale = _ISO_LOCALES.get((get_language() or "").lower())
    if locale is None or name == code:
        return name
    try:
        catalog = gnu_gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale])
    except OSError:
        return name
    return catalog.gettext(name)


_zone: dict[str, tuple[float, str]] = {}
ZONE_TTL_SECONDS = 60.0


def node_zone_name() -> str:
    """The node's time zone (its directory entry's), kept a minute per process: a timeline
    shows it beside every time, and must not look it up once per line."""
    import time

    from hanoi247.operations.services import node_zone

    hit = _zone.get("zone")
    if hit is None or time.monotonic() - hit[0] > ZONE_TTL_SECONDS:
        hit = (time.monotonic(), str(node_zone()))
        _zone["zone"] = hit
    return hit[1]
