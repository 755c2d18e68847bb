"""States by ISO 3166 alpha-3 code. Free of Django so the demo launcher can use it."""

from __future__ import annotations

import pycountry

# The secretariat has no ISO 3166 code; it uses this reserved one.
SECRETARIAT = "UNO"

# Defaults for the demo and for enrolment when a State gives nothing else:
# accepted languages (ISO 639-1) and time zone.
STATE_DEFAULTS: dict[str, tuple[list[str], str]] = {
    "VNM": (["vi", "en"], "Asia/Ho_Chi_Minh"),
    "FRA": (["fr", "en"], "Europe/Paris"),
    "BRA": (["pt", "es", "en"], "America/Sao_Paulo"),
    "NGA": (["en"], "Africa/Lagos"),
    "EGY": (["ar", "en"], "Africa/Cairo"),
    "CHN": (["zh", "en"], "Asia/Shanghai"),
    "RUS": (["ru", "en"], "Europe/Moscow"),
    "ESP": (["es", "en"], "Europe/Madrid"),
    SECRETARIAT: (["en", "fr"], "America/New_York"),
}


def state_name(code: str) -> str:
    """The ISO 3166 short name of a State (alpha-3), or the code itself."""
    if code == SECRETARIAT:
        return "United Nations (secretariat)"
    country = pycountry.countries.get(alpha_3=code)
    return country.name if country else code


def is_state_code(code: str) -> bool:
    return code == SECRETARIAT or (len(code) == 3 and pycountry.countries.get(alpha_3=code) is not None)
