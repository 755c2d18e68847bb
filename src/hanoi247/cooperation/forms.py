"""Web forms built from the request type's schema, so the form asks exactly for the
elements the article requires and names the article beside each.

Every element of a schema has a shape (one line of text, a date, a choice, a nested element,
a list of rows...). Its form fields are named after its place in the payload — ``period-start``,
``identifiers-1-time_zone``, ``assets-0-value-amount`` — so that an error a service reports
at ``identifiers.1.time_zone`` lands on the input the officer typed it in.

A draft keeps whatever was typed: every field is optional here, and the schema decides what
is missing when the request is submitted (``schemas.problems``).
"""

from __future__ import annotations

import re
import sys
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, ClassVar

import annotated_types
from django import forms
from django.db.models import Q
from django.forms.boundfield import BoundField
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from hanoi247.cooperation.models import Case, Handling, Request, Status
from hanoi247.cooperation.schemas import REQUEST_TYPES, RequestType, field_meta
from hanoi247.cooperation.schemas import base as schema_base
from hanoi247.cooperation.services import CONDITION_KEYS, LANGUAGES, Options, visible_cases, visible_requests
from hanoi247.directory import services as directory

CATEGORY_LABELS = {
    "subscriber": _("Subscriber information"),
    "traffic": _("Traffic data"),
    "content": _("Content data"),
}

EXTRA_ROWS = 2  # empty rows under the typed ones: enough to add without JavaScript
MAX_ROWS = 200  # never build more rows than this, whatever is posted
TEXT_LIMIT = 20000

# -- what each element of a schema is ------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One element of a schema, as the form sees it."""

    name: str
    title: str
    article: str
    help: str
    shape: str  # text, line, bool, date, datetime, number, choice, choices, lines, group, rows
    required: bool
    widget: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    number: type = Decimal
    max_length: int | None = None
    children: tuple[Spec, ...] = ()


def _bare(annotation: Any) -> Any:
    """``X`` from ``X | None``, ``Optional[X]`` or ``Annotated[X, ...]``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _bare(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _bare(args[0]) if len(args) == 1 else annotation
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _label_dicts(model: type[BaseModel]) -> list[Mapping[str, Any]]:
    """Module-level dicts of labels in the model's module and in ``base`` (e.g. IDENTIFIER_KINDS)."""
    found: list[Mapping[str, Any]] = [CATEGORY_LABELS]
    for module in (sys.modules.get(model.__module__), schema_base):
        for name, value in vars(module).items() if module else ():
            if name.isupper() and isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
                found.append(value)
    return found


def _lazy_label(label: Any) -> Any:
    """A label in the language of the request that shows it (labels are cached with the specs)."""
    return label if isinstance(label, Promise) else _(str(label))


def _choices(model: type[BaseModel], codes: tuple[Any, ...]) -> tuple[tuple[str, str], ...]:
    wanted = {str(c) for c in codes}
    for labels in _label_dicts(model):
        if wanted <= set(labels):
            return tuple((str(c), _lazy_label(labels[str(c)])) for c in codes)
    return tuple((str(c), str(c).replace("_", " ").capitalize()) for c in codes)


def _max_length(metadata: list[Any]) -> int | None:
    for item in metadata:
        limit = getattr(item, "max_length", None)
        if isinstance(limit, int) and not isinstance(item, annotated_types.MaxLen):
            return limit
    return None


def _spec(model: type[BaseModel], name: str) -> Spec:
    info = model.model_fields[name]
    meta = field_meta(model, name)
    common: dict[str, Any] = {
        "name": name,
        # Lazy: specs are cached once per process, and each request shows them in its own language.
        "title": _(str(meta.get("title") or name.replace("_", " ").capitalize())),
        "article": str(meta.get("article") or ""),
        "help": _(str(meta["help"])) if meta.get("help") else "",
        "widget": str(meta.get("widget") or ""),
        "required": info.is_required(),
    }
    annotation = _bare(info.annotation)
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return Spec(shape="bool", **common)
    if annotation is datetime:
        return Spec(shape="datetime", **common)
    if annotation is date:
        return Spec(shape="date", **common)
    if annotation in (Decimal, int, float):
        return Spec(shape="number", number=annotation, **common)
    if origin is typing.Literal:
        return Spec(shape="choice", choices=_choices(model, typing.get_args(annotation)), **common)
    if _is_model(annotation):
        return Spec(shape="group", children=specs(annotation), **common)
    if origin is list:
        (item,) = typing.get_args(annotation) or (str,)
        item = _bare(item)
        if typing.get_origin(item) is typing.Literal:
            return Spec(shape="choices", choices=_choices(model, typing.get_args(item)), **common)
        if _is_model(item):
            return Spec(shape="rows", children=specs(item), **common)
        return Spec(shape="lines", **common)
    shape = "line" if common["widget"] == "input" else "text"
    return Spec(shape=shape, max_length=_max_length(info.metadata), **common)


@cache
def specs(model: type[BaseModel]) -> tuple[Spec, ...]:
    """The elements of a schema (or of a nested element), in their order."""
    return tuple(_spec(model, name) for name in model.model_fields)


# -- form fields -------------------------------------------------------------------------------


class _TextField(forms.CharField):
    """Text as typed, with the browser's CRLF made LF."""

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value)).replace("\r\n", "\n")


class _LinesField(forms.CharField):
    """A list of short texts, one per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(map(str, value)) if isinstance(value, list | tuple) else value

    def clean(self, value: Any) -> list[str]:
        text = str(super().clean(value) or "")
        return [line.strip() for line in text.splitlines() if line.strip()]


class _LocalDateTimeField(forms.Field):
    """A date and time as the officer typed it: no conversion to the server's time zone
    (a time of use goes with its own time zone element)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S")
    default_error_messages = {"invalid": _("Enter a valid date and time.")}

    def to_python(self, value: Any) -> datetime | None:
        if isinstance(value, datetime):
            return value
        text = str(value or "").strip()
        if not text:
            return None
        try:
            return datetime.fromisoformat(text)
        except (ValueError, OverflowError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class _Marker(forms.Field):
    """Holds the errors of a nested element or of a list of rows as a whole. Never rendered."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def clean(self, value: Any) -> None:
        return None


def _leaf(spec: Spec, *, top: bool) -> forms.Field:
    common: dict[str, Any] = {"label": spec.title, "help_text": spec.help, "required": False}
    attrs: dict[str, str] = {"aria-required": "true"} if top and spec.required else {}
    if spec.shape == "bool":
        return forms.BooleanField(**common)
    if spec.shape == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d"), **common)
    if spec.shape == "datetime":
        moment = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1", **attrs}, format="%Y-%m-%dT%H:%M:%S")
        return _LocalDateTimeField(widget=moment, **common)
    if spec.shape == "number":
        figure = forms.TextInput(attrs={"inputmode": "decimal", **attrs})
        if spec.number is int:
            return forms.IntegerField(widget=figure, **common)
        if spec.number is float:
            return forms.FloatField(widget=figure, **common)
        return forms.DecimalField(widget=figure, **common)
    if spec.shape == "choice":
        return forms.ChoiceField(choices=[("", "—"), *spec.choices], widget=forms.Select(attrs=attrs), **common)
    if spec.shape == "choices":
        return forms.MultipleChoiceField(choices=spec.choices, widget=forms.CheckboxSelectMultiple, **common)
    if spec.shape == "lines":
        return _LinesField(widget=forms.Textarea(attrs={"rows": 3, **attrs}), max_length=TEXT_LIMIT, **common)
    widget: forms.Widget = (
        forms.TextInput(attrs=attrs) if spec.shape == "line" else forms.Textarea(attrs={"rows": 3, **attrs})
    )
    return _TextField(widget=widget, max_length=spec.max_length or TEXT_LIMIT, **common)


# -- the tree the template renders --------------------------------------------------------------


@dataclass
class Part:
    """One element placed in the form: a leaf has its bound ``field``; a group its ``parts``;
    a list its ``rows``. ``field`` of a group or a list holds the errors on it as a whole."""

    spec: Spec
    key: str  # the form field name, or the prefix of the nested fields' names
    label: str  # where it is, in words: "Identifiers, item 2, time zone"
    field: BoundField
    parts: list[Part] = dataclass_field(default_factory=list)
    rows: list[Row] = dataclass_field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def article(self) -> str:
        return self.spec.article

    @property
    def help(self) -> str:
        return self.spec.help

    @property
    def shape(self) -> str:
        return self.spec.shape

    @property
    def required(self) -> bool:
        return self.spec.required

    @property
    def columns(self) -> tuple[Spec, ...]:
        return self.spec.children

    @property
    def errors(self) -> Any:
        return self.field.errors

    @property
    def is_leaf(self) -> bool:
        return self.spec.shape not in {"group", "rows"}


@dataclass
class Row:
    index: int
    key: str  # e.g. "identifiers-1"
    parts: list[Part]


_INDEX = re.compile(r"^(\d+)-")


def _row_indexes(source: Any, prefix: str, *, only_filled: bool) -> list[int]:
    """The row numbers under ``prefix`` that ``source`` (posted data or initial) has."""
    found = set()
    start = f"{prefix}-"
    for key in source:
        if isinstance(key, str) and key.startswith(start) and (m := _INDEX.match(key[len(start) :])):
            index = int(m.group(1))
            if index >= MAX_ROWS:
                continue
            if only_filled and not _filled(source.getlist(key) if hasattr(source, "getlist") else source[key]):
                continue
            found.add(index)
    return sorted(found)


def _filled(value: Any) -> bool:
    """Whether a value says something (False, "", None, [] and {} do not)."""
    if isinstance(value, list | tuple):
        return any(_filled(v) for v in value)
    if isinstance(value, dict):
        return any(_filled(v) for v in value.values())
    if isinstance(value, str):
        return bool(value.strip())
    return value not in (None, False)


class RequestForm(forms.Form):
    """The elements of one request type; ``request_form`` makes one class per type."""

    kind: ClassVar[RequestType]
    include_recipient: ClassVar[bool] = True
    articles: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.include_recipient:
            self.fields["recipient"] = forms.ChoiceField(
                label=_("Requested State"),
                choices=[("", "—")] + [(n["state"], f"{n['name']} ({n['state']})") for n in directory.peers()],
            )
        source: Any = self.data if self.is_bound else self.initial
        self._labelled: set[tuple[str, str]] = set()
        self.parts: list[Part] = [
            self._build(spec, spec.name, spec.title, source, top=True) for spec in specs(self.kind.schema)
        ]
        self.groups: list[Part] = self.parts

    def _build(self, spec: Spec, key: str, label: str, source: Any, *, top: bool = False) -> Part:
        if spec.shape not in {"group", "rows"}:
            self.fields[key] = _leaf(spec, top=top)
            return Part(spec, key, label, self[key])
        self.fields[key] = _Marker(label=spec.title)
        part = Part(spec, key, label, self[key])
        if spec.shape == "group":
            part.parts = [
                self._build(child, f"{key}-{child.name}", f"{label}, {child.title.lower()}", source)
                for child in spec.children
            ]
            return part
        # Rows: those the draft or the post has (up to the last one with something in it), and empty ones.
        indexes = _row_indexes(source, key, only_filled=self.is_bound)
        count = (indexes[-1] + 1 if indexes else 0) + EXTRA_ROWS
        for i in range(min(count, MAX_ROWS)):
            row_label = f"{label}, {_('item')} {i + 1}"
            row_key = f"{key}-{i}"
            parts = [
                self._build(child, f"{row_key}-{child.name}", f"{row_label}, {child.title.lower()}", source)
                for child in spec.children
            ]
            part.rows.append(Row(i, row_key, parts))
        return part

    # -- errors from the services, placed where they belong

    def add_path_error(self, path: str, message: str) -> None:
        """Put an error reported at ``path`` ("identifiers.1.time_zone", as in
        ``Missing.path``) on that input, else on the element, else on the whole form."""
        steps = [s for s in str(path or "").split(".") if s]
        names = self._form_names(steps)
        for end in range(len(names), 0, -1):
            name = "-".join(names[:end])
            if name in self.fields and name != "recipient":
                self._labelled.add((name, message))
                self.add_error(name, message)
                return
        self.add_error(None, message)

    def _form_names(self, steps: list[str]) -> list[str]:
        """A payload path's steps as form name parts: an item's number in the payload (empty
        rows dropped) becomes the number of the row it was typed in."""
        out: list[str] = []
        part_list = self.parts
        current: Part | None = None
        for step in steps:
            if current is not None and current.shape == "rows" and step.isdigit():
                kept = [row for row in current.rows if self._row_value(row, current) is not None]
                index = int(step)
                row = kept[index] if index < len(kept) else None
                out.append(str(row.index if row else index))
                part_list = row.parts if row else []
                continue
            out.append(step)
            current = next((p for p in part_list if p.name == step), None)
            part_list = current.parts if current is not None else []
        return out

    def _row_value(self, row: Row, part: Part) -> dict[str, Any] | None:
        return _group_value(row.parts, getattr(self, "cleaned_data", {}))

    # -- for the template

    @property
    def recipient_field(self) -> BoundField | None:
        return self["recipient"] if "recipient" in self.fields else None

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for every error on an element, in the order of the form."""
        out: list[tuple[str, str]] = []
        for part in self._walk(self.parts):
            for error in part.errors:
                anchor = f"f-{part.key}" if not part.is_leaf else str(part.field.id_for_label or f"f-{part.key}")
                already = (part.key, str(error)) in self._labelled
                out.append((anchor, str(error) if already else f"{part.label}: {error}"))
        return out

    def _walk(self, parts: list[Part]) -> Iterator[Part]:
        for part in parts:
            yield part
            yield from self._walk(part.parts)
            for row in part.rows:
                yield from self._walk(row.parts)


def request_form(kind: RequestType, *, include_recipient: bool = True) -> type[RequestForm]:
    """The form class of a request type: its elements, and the requested State if asked."""
    attrs = {
        "kind": kind,
        "include_recipient": include_recipient,
        "articles": {spec.name: spec.article for spec in specs(kind.schema)},
        "__module__": __name__,
    }
    return typing.cast(type[RequestForm], type(f"{kind.schema.__name__}Form", (RequestForm,), attrs))


# -- between the form and the payload -----------------------------------------------------------


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _group_value(parts: list[Part], cleaned: Mapping[str, Any]) -> dict[str, Any] | None:
    """A nested element's values, or None if nothing was typed in it."""
    out: dict[str, Any] = {}
    for part in parts:
        value = _part_value(part, cleaned)
        if value not in (None, "", []):
            out[part.name] = value
    return out if _filled(out) else None


def _part_value(part: Part, cleaned: Mapping[str, Any]) -> Any:
    if part.shape == "group":
        return _group_value(part.parts, cleaned)
    if part.shape == "rows":
        rows = [_group_value(row.parts, cleaned) for row in part.rows]
        return [row for row in rows if row is not None]
    value = cleaned.get(part.key)
    if isinstance(value, list):
        return [_json(v) for v in value]
    return _json(value)


def payload_of(form: forms.Form, kind: RequestType) -> dict[str, Any]:
    """What the officer typed, JSON-ready and kept as typed: empty fields, empty nested
    elements and empty rows dropped, so a draft loses nothing and gains nothing."""
    assert isinstance(form, RequestForm) and form.kind.code == kind.code
    data: dict[str, Any] = {}
    for part in form.parts:
        value = _part_value(part, form.cleaned_data)
        if value not in (None, "", []):
            data[part.name] = value
    return data


def initial_of(kind: RequestType, payload: Any) -> dict[str, Any]:
    """The form's initial values for a stored draft: the inverse of ``payload_of``. A value
    of the wrong shape (a draft made through the API) is shown as text rather than lost."""
    out: dict[str, Any] = {}
    _initial(specs(kind.schema), payload if isinstance(payload, dict) else {}, "", out)
    return out


def _initial(elements: tuple[Spec, ...], values: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for spec in elements:
        if spec.name not in values:
            continue
        value, key = values[spec.name], f"{prefix}{spec.name}"
        if spec.shape == "group":
            if isinstance(value, dict):
                _initial(spec.children, value, f"{key}-", out)
        elif spec.shape == "rows":
            items = value if isinstance(value, list) else []
            for i, item in enumerate(items[:MAX_ROWS]):
                if isinstance(item, dict):
                    _initial(spec.children, item, f"{key}-{i}-", out)
        elif spec.shape == "choices":
            out[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        elif spec.shape == "bool":
            out[key] = value is True
        elif value is not None:
            out[key] = value if isinstance(value, str | int | float | Decimal | list) else str(value)


# -- what travels with the request besides its elements --------------------------------------------


class RequestOptionsForm(forms.Form):
    """Case, language, handling and conditions of a request (Art. 40), the request it
    follows up, and the requests its personal data came through (Art. 36)."""

    case = forms.ModelChoiceField(
        label=_("Case"),
        queryset=Case.objects.none(),
        required=False,
        empty_label=_("— new case —"),
    )
    case_title = forms.CharField(
        label=_("Title of the new case"), required=False, max_length=200, help_text=_("Used only for a new case.")
    )
    language = forms.ChoiceField(
        label=_("Language of the request"),
        required=False,
        help_text=_("A language the requested State accepts (Art. 40)."),
    )
    handling = forms.ChoiceField(
        label=_("Handling"), choices=Handling.choices, initial=Handling.AMBER_STRICT, required=False
    )
    confidential = forms.BooleanField(label=_("Keep this request confidential"), required=False)
    no_user_notification = forms.BooleanField(label=_("Do not notify the user"), required=False)
    use_limitation = forms.CharField(
        label=_("Use limitation"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Conditions on the use of what the requested State sends back."),
    )
    follows = forms.ChoiceField(label=_("Follows up"), required=False)
    personal_data_from = forms.MultipleChoiceField(
        label=_("Personal data received through"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text=_("Requests through which personal data in this request was received from another State (Art. 36)"),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        kind: RequestType,
        initial: dict[str, Any] | None = None,
        prefix: str = "opt",
        user: Any = None,
    ) -> None:
        super().__init__(data, initial=initial, prefix=prefix)
        self.kind = kind
        cases = visible_cases(user) if user is not None else Case.objects.all()
        requests = (visible_requests(user) if user is not None else Request.objects.all()).exclude(status=Status.DRAFT)
        self.fields["case"].queryset = cases.order_by("-created_at")  # type: ignore[attr-defined]
        self.fields["language"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (code, f"{name} ({code})") for code, name in sorted(LANGUAGES.items(), key=lambda item: item[1])
        ]
        kept = self._initial_ids(initial)
        if kind.follows:
            earlier = requests.filter(Q(type__in=kind.follows)).order_by("-created_at")
            self.fields["follows"].choices = [("", "—")] + [  # type: ignore[attr-defined]
                (str(r.pk), f"{r.reference} — {_type_title(r.type)} — {r.counterpart}") for r in _newest(earlier, kept)
            ]
        else:
            del self.fields["follows"]
        self.fields["personal_data_from"].choices = [  # type: ignore[attr-defined]
            (str(r.pk), f"{r.reference} — {r.counterpart}") for r in _newest(requests.order_by("-created_at"), kept)
        ]

    @staticmethod
    def _initial_ids(initial: Mapping[str, Any] | None) -> set[str]:
        initial = initial or {}
        ids = {str(initial.get("follows") or "")} | {str(i) for i in initial.get("personal_data_from") or ()}
        return {i for i in ids if i}

    def options(self) -> Options:
        """The options as ``services.create_draft`` and ``update_draft`` take them."""
        data = self.cleaned_data
        conditions = {key: data[key] for key in CONDITION_KEYS if data.get(key)}
        if isinstance(conditions.get("use_limitation"), str):
            conditions["use_limitation"] = conditions["use_limitation"].strip()
        return Options(
            case=data.get("case"),
            case_title=str(data.get("case_title") or "").strip(),
            language=str(data.get("language") or ""),
            handling=str(data.get("handling") or ""),
            conditions=conditions,
            follows=str(data.get("follows") or "") if "follows" in self.fields else None,
            personal_data_from=tuple(str(i) for i in data.get("personal_data_from") or ()),
        )


def _newest(qs: Any, kept: set[str], limit: int = 300) -> list[Request]:
    """The newest requests, and those already chosen even if older."""
    found = list(qs[:limit])
    have = {str(r.pk) for r in found}
    missing = [i for i in kept - have if _is_uuid(i)]
    return found + list(qs.filter(pk__in=missing)) if missing else found


def _is_uuid(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F-]{32,36}", value))


def _type_title(code: str) -> str:
    kind = REQUEST_TYPES.get(code)
    return str(kind.title) if kind else code


def options_initial(req: Request) -> dict[str, Any]:
    """The options form's initial values for a stored draft."""
    conditions = req.conditions if isinstance(req.conditions, dict) else {}
    return {
        "case": req.case_id,
        "language": req.language,
        "handling": req.handling,
        "confidential": bool(conditions.get("confidential")),
        "no_user_notification": bool(conditions.get("no_user_notification")),
        "use_limitation": str(conditions.get("use_limitation") or ""),
        "follows": str(req.follows_id) if req.follows_id else "",
        "personal_data_from": [str(pk) for pk in req.personal_data_from.values_list("pk", flat=True)],
    }


# -- the requested State's steps ----------------------------------------------------------------


class ExecuteForm(forms.Form):
    preserved_until = forms.DateField(
        label=_("Data preserved until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("At least 60 days from today (Art. 42)."),
    )
    note = forms.CharField(
        label=_("Note to the requesting State"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["preserved_until"].initial = timezone.localdate() + timedelta(days=90)


class RefuseForm(forms.Form):
    grounds = forms.MultipleChoiceField(label=_("Grounds for refusal"), widget=forms.CheckboxSelectMultiple)
    reasons = forms.CharField(
        label=_("Reasons"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The requesting State sees these reasons (Art. 40)."),
    )

    def __init__(self, *args: Any, grounds: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grounds"].choices = [(k, v) for k, v in grounds.items()]  # type: ignore[attr-defined]
