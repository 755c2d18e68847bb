"""A request as a formal, signed-ready PDF: for the central authority's file, and for the
States that still need a request on paper with a signature and a seal (Art. 40).

The document is built from the request type's schema, element by element and in the
schema's order, each with the article that asks for it, so a new request type prints
without any code here. It is rendered in the request's language, offline: WeasyPrint may
read nothing but ``data:`` URLs, so a request's content can never make this node fetch
anything.
"""

from __future__ import annotations

import sys
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

import pycountry
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pydantic import BaseModel

from hanoi247.cooperation.models import Handling, Request, Status
from hanoi247.cooperation.schemas import REQUEST_TYPES, field_meta, submodel
from hanoi247.cooperation.schemas import base as schema_base
from hanoi247.states import state_name

TEMPLATE = "cooperation/document.html"

# Written right to left; Django's own list (LANGUAGES_BIDI) only counts the languages the
# interface is translated into, a request may be in any.
RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur", "ps", "sd", "ug", "ckb", "yi", "dv"})

TLP_COLOURS = {
    Handling.RED: "#c00000",
    Handling.AMBER_STRICT: "#b36b00",
    Handling.AMBER: "#b36b00",
    Handling.GREEN: "#1a7a1a",
    Handling.CLEAR: "#333333",
}


def code_labels() -> dict[str, str]:
    """Readable names of the codes the schemas use for their choices (kinds of identifier,
    categories of data, kinds of cooperation …: every upper-case label dict of a schema
    module); any other code is shown with its underscores as spaces."""
    found: dict[str, str] = {}
    for module in (schema_base, *(sys.modules[t.schema.__module__] for t in REQUEST_TYPES.values())):
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
                found.update({str(k): _(v) for k, v in value.items()})
    return {
        **found,
        "subscriber": _("Subscriber information"),
        "traffic": _("Traffic data"),
        "content": _("Content data"),
    }


def _humanise(code: str) -> str:
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


# -- values ---------------------------------------------------------------------------------


def _plain(annotation: Any) -> Any:
    """``X`` from ``X | None``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, type(int | None)) and len(args) == 1:
        return args[0]
    return annotation


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        return None


def format_datetime(moment: datetime) -> str:
    """A time as it was given: a time without its zone stays local (the element beside it
    names the zone), a time with one keeps its offset."""
    text = date_format(moment, "DATETIME_FORMAT")
    offset = moment.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{text} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def format_scalar(value: Any, annotation: Any, labels: dict[str, str]) -> str:
    """One value as text, by the type the schema gives it. A draft may hold anything: a
    value that is not what the schema says is shown as it is, never dropped."""
    kind = _plain(annotation)
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if kind is datetime and (moment := _as_datetime(value)) is not None:
        return format_datetime(moment)
    if kind is date and (day := _as_date(value)) is not None:
        return date_format(day, "DATE_FORMAT")
    if typing.get_origin(kind) is Literal and isinstance(value, str):
        return labels.get(value, _humanise(value))
    if isinstance(value, dict):
        return "; ".join(f"{_humanise(str(k))}: {format_scalar(v, Any, labels)}" for k, v in value.items() if v)
    if isinstance(value, list):
        return ", ".join(format_scalar(v, Any, labels) for v in value)
    return str(value)


def _cell(model: type[BaseModel], name: str, value: Any, labels: dict[str, str]) -> str:
    """A value inside an element (a table cell). An element within it goes on one line:
    "1200.50 EUR" for an amount, "From: …; To: …" when its parts need their names."""
    info = model.model_fields.get(name)
    annotation = info.annotation if info is not None else Any
    inner = submodel(annotation)
    if inner is not None and isinstance(value, dict):
        filled = [(k, v) for k, v in value.items() if v not in (None, "", [])]
        if all(k in inner.model_fields and _is_word(inner, k) for k, _v in filled):
            return " ".join(_cell(inner, k, v, labels) for k, v in filled)
        return "; ".join(
            f"{_title(inner, k) if k in inner.model_fields else k}: {_cell(inner, k, v, labels)}" for k, v in filled
        )
    if inner is not None and isinstance(value, list):
        return "; ".join(_cell(model, name, v, labels) for v in value)
    if isinstance(value, list):
        item = typing.get_args(_plain(annotation))
        return ", ".join(format_scalar(v, item[0] if item else Any, labels) for v in value)
    return format_scalar(value, annotation, labels)


def _is_word(model: type[BaseModel], name: str) -> bool:
    """Whether a part of an element reads without its name (an amount, a currency code)."""
    kind = _plain(model.model_fields[name].annotation)
    return kind in (str, Decimal) or typing.get_origin(kind) is Literal


def _table_cell(text: str) -> dict[str, Any]:
    """A cell of a table; a short code (an IP address, a time zone) is never broken, the
    longest values (URLs, wallet addresses) may break anywhere so the table fits the page."""
    return {"text": text, "nowrap": len(text) <= 14 and " " not in text}


def _title(model: type[BaseModel], name: str) -> str:
    return _(str(field_meta(model, name).get("title", name)))


def display(annotation: Any, value: Any, labels: dict[str, str]) -> dict[str, Any]:
    """How one element of the request is shown: ``empty``, ``text``, ``list`` (of texts),
    ``record`` (one element as label/value rows) or ``table`` (several, one row each)."""
    if value is None or value == "" or value == [] or value == {}:
        return {"kind": "empty"}
    inner = submodel(annotation)
    if inner is not None and isinstance(value, dict):
        rows = [
            (_title(inner, name), _cell(inner, name, value.get(name), labels))
            for name in inner.model_fields
            if value.get(name) not in (None, "", [])
        ]
        rows += [(_humanise(k), format_scalar(v, Any, labels)) for k, v in value.items() if k not in inner.model_fields]
        return {"kind": "record", "rows": rows}
    if inner is not None and isinstance(value, list) and all(isinstance(v, dict) for v in value):
        # Only the columns some row fills: an empty column would take the width the others need.
        names = [n for n in inner.model_fields if any(v.get(n) not in (None, "", []) for v in value)]
        names += sorted({k for v in value for k in v if k not in inner.model_fields})
        return {
            "kind": "table",
            "columns": [_title(inner, n) if n in inner.model_fields else _humanise(n) for n in names],
            "rows": [[_table_cell(_cell(inner, n, v.get(n), labels)) for n in names] for v in value],
        }
    if isinstance(value, list):
        item = typing.get_args(_plain(annotation))
        return {"kind": "list", "items": [format_scalar(v, item[0] if item else Any, labels) for v in value]}
    return {"kind": "text", "value": format_scalar(value, annotation, labels)}


# -- the document ---------------------------------------------------------------------------


def _language_name(code: str) -> str:
    found = pycountry.languages.get(alpha_2=code) if len(code) == 2 else None
    return _(found.name) if found is not None else code


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _page_counter_css() -> SafeString:
    """``"Page " counter(page) " of " counter(pages)`` in the request's language."""
    words = _("Page {page} of {pages}")
    out: list[str] = []
    for part in words.replace("{pages}", "\0pages\0").replace("{page}", "\0page\0").split("\0"):
        if part in {"page", "pages"}:
            out.append(f"counter({part})")
        elif part:
            out.append(_css_string(part))
    return mark_safe(" ".join(out))  # noqa: S308 - built from CSS-escaped strings only


def _conditions(conditions: dict[str, Any]) -> list[str]:
    found = []
    if conditions.get("confidential"):
        found.append(
            _("Confidential: the request, its content and the fact that it was made are to be kept confidential.")
        )
    if conditions.get("no_user_notification"):
        found.append(_("The person concerned and the users of the service must not be notified."))
    if use := str(conditions.get("use_limitation") or "").strip():
        found.append(_("Use limitation: %(limitation)s") % {"limitation": use})
    return found


def _addressee(req: Request) -> dict[str, Any]:
    from hanoi247.directory import services as directory

    dirs = directory.current()
    node = dirs.node(req.requested_state) if dirs is not None else None
    contacts = []
    for role, contact in ((node or {}).get("contacts") or {}).items():
        if isinstance(contact, dict):
            words = [str(contact.get(k, "")) for k in ("name", "email", "phone") if contact.get(k)]
            contacts.append({"role": _humanise(str(role)), "text": " · ".join(words)})
    return {"state": state_name(req.requested_state), "contacts": contacts}


def _value(payload: dict[str, Any], name: str, default: Any) -> Any:
    """The element's value; a yes/no the draft leaves out is its default, as it will travel."""
    value = payload.get(name)
    return default if value is None and isinstance(default, bool) else value


def document_context(req: Request) -> dict[str, Any]:
    """Everything the document shows, as text already formatted for the request's language.
    Call it inside ``translation.override(req.language)`` (``render_pdf`` does)."""
    kind = REQUEST_TYPES[req.type]
    labels = code_labels()
    payload = req.payload if isinstance(req.payload, dict) else {}
    elements = []
    for name, info in kind.schema.model_fields.items():
        meta = field_meta(kind.schema, name)
        elements.append(
            {
                "name": name,
                "title": _(str(meta.get("title", name))),
                "article": str(meta.get("article", "")),
                "display": display(info.annotation, _value(payload, name, info.default), labels),
            }
        )
    # A draft may hold keys the schema no longer has: print them rather than hide them.
    for name in payload:
        if name not in kind.schema.model_fields:
            elements.append(
                {
                    "name": name,
                    "title": _humanise(name),
                    "article": "",
                    "display": display(Any, payload[name], labels),
                }
            )
    authority = payload.get("requesting_authority")
    events = [
        {
            "kind": _humanise(e.kind),
            "at": date_format(e.at.astimezone(UTC), "DATETIME_FORMAT") + " UTC",
            "actor": e.actor_name + (f" ({_humanise(e.actor_role)})" if e.actor_role else ""),
            "state": state_name(e.actor_state),
            "note": e.note,
        }
        for e in req.events.all()
    ]
    translations = [
        {
            "language": t.language,
            "language_name": _language_name(t.language),
            "dir": "rtl" if t.language.split("-")[0] in RTL_LANGUAGES else "ltr",
            "text": t.text,
            "translator": t.translator,
        }
        for t in req.translations.all()
    ]
    language = req.language or "en"
    handling = req.handling if req.handling in Handling.values else Handling.RED
    return {
        "req": req,
        "kind": kind,
        "type_title": str(kind.title),
        "article": kind.article,
        "language": language,
        "dir": "rtl" if language.split("-")[0] in RTL_LANGUAGES else "ltr",
        "draft": req.status == Status.DRAFT,
        "requesting_state": state_name(req.requesting_state),
        "requested_state": state_name(req.requested_state),
        "authority": authority if isinstance(authority, str) else "",
        "addressee": _addressee(req),
        "case_reference": req.case.reference if req.case is not None else "",
        "case_title": req.case.title if req.case is not None else "",
        "follows": req.follows.reference if req.follows is not None else "",
        "submitted": date_format(req.submitted_at.astimezone(UTC), "DATE_FORMAT") if req.submitted_at else "",
        "printed": date_format(datetime.now(UTC), "DATE_FORMAT"),
        "status": req.get_status_display(),
        "handling": handling,
        "handling_label": Handling(handling).label,
        "tlp_colour": TLP_COLOURS[Handling(handling)],
        "page_counter": _page_counter_css(),
        "conditions": _conditions(req.conditions if isinstance(req.conditions, dict) else {}),
        "answer_conditions": _conditions(req.answer_conditions if isinstance(req.answer_conditions, dict) else {}),
        "elements": elements,
        "events": events,
        "translations": translations,
    }


def render_html(req: Request) -> str:
    with translation.override(req.language or "en"):
        return render_to_string(TEMPLATE, document_context(req))


def render_pdf(req: Request) -> bytes:
    """The request as a PDF, in its language, ready to be signed and sealed."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # No base URL and no scheme but data: a request's content can make this node fetch nothing.
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
    pdf = HTML(string=render_html(req), base_url=None, url_fetcher=fetcher).write_pdf()
    assert pdf is not None
    return bytes(pdf)
