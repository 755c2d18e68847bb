"""The request as a print-ready PDF: every element of its type, its handling code and
conditions, a draft marked as such, in the request's language and direction."""

from __future__ import annotations

import io
import json
import urllib.request
from typing import Any

import pytest
from pypdf import PdfReader

from hanoi247.cooperation import documents, services
from hanoi247.cooperation.models import Request, Translation
from hanoi247.cooperation.schemas import REQUEST_TYPES, field_meta
from tests.conftest import COMPLETE


@pytest.fixture
def officer(personas: Any) -> Any:
    return personas["officer"]


def text_of(pdf: bytes) -> str:
    """The PDF's text on one line, so that a title wrapped over two lines still matches."""
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())


def flat(text: str) -> str:
    return " ".join(text.split())


def draft(officer: Any, payload: dict[str, Any], type: str = "preservation", **options: Any) -> Request:
    return services.create_draft(
        officer,
        type=type,
        recipient="FRA",
        payload=json.loads(json.dumps(payload)),
        options=services.Options(**options) if options else None,
    )


def test_submitted_request_prints_every_element_with_its_article(network: Any, officer: Any) -> None:
    req = draft(officer, COMPLETE, conditions={"confidential": True, "use_limitation": "Only for case JI-2026-0147"})
    Translation.objects.create(request=req, language="fr", text="Demande de conservation rapide.", translator="J. D.")
    req = services.submit(officer, req)
    pdf = documents.render_pdf(req)
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    kind = REQUEST_TYPES["preservation"]
    assert req.reference in text and req.case is not None and req.case.reference in text
    assert flat(f"Request for {kind.title} under {kind.article} of the United Nations Convention") in text
    assert "Viet Nam" in text and "France" in text and COMPLETE["requesting_authority"] in text
    for name in kind.schema.model_fields:
        meta = field_meta(kind.schema, name)
        assert flat(str(meta["title"])) in text, name
        assert flat(str(meta["article"])) in text, name
    assert req.handling in text and "TLP:AMBER+STRICT — the receiving authority only" in text
    assert "Only for case JI-2026-0147" in text and "confidential" in text
    # Nested elements as tables, booleans as words, codes by their names.
    assert "203.0.113.7" in text and "Example Mail SAS" in text and "IP address" in text
    assert "Subscriber information" in text and "Yes" in text
    # Signed-ready, with the timeline and the translation as annexes, page numbers in the footer.
    assert "Signature" in text and "Seal" in text
    assert "Timeline of the request" in text and "Submitted" in text and "Lan Nguyen" in text
    assert "Translation into French" in text and "Demande de conservation rapide." in text
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert "DRAFT" not in text


def test_handling_code_is_on_every_page(network: Any, officer: Any) -> None:
    req = draft(officer, COMPLETE, handling="TLP:RED")
    reader = PdfReader(io.BytesIO(documents.render_pdf(req)))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert (page.extract_text() or "").count("TLP:RED") >= 2  # top and bottom


def test_draft_is_marked_as_not_sent(network: Any, officer: Any) -> None:
    req = draft(officer, {"offence": "Fraud"})
    context = documents.document_context(req)
    assert context["draft"] and context["submitted"] == ""
    text = text_of(documents.render_pdf(req))
    assert "DRAFT — not sent" in text and "Fraud" in text


def test_arabic_request_is_right_to_left(network: Any, officer: Any) -> None:
    payload = {**COMPLETE, "summary_of_facts": "حملة تصيد احتيالي سرقت مدخرات 300 ضحية."}
    req = draft(officer, payload, language="ar")
    assert documents.document_context(req)["dir"] == "rtl"
    html = documents.render_html(req)
    assert '<html lang="ar" dir="rtl">' in html and "حملة تصيد احتيالي" in html
    english = draft(officer, COMPLETE, language="en")
    assert '<html lang="en" dir="ltr">' in documents.render_html(english)


def test_chinese_text_renders(network: Any, officer: Any) -> None:
    req = draft(officer, {**COMPLETE, "summary_of_facts": "网络钓鱼活动骗取了300名受害者的积蓄。"}, language="zh")
    pdf = documents.render_pdf(req)
    assert pdf.startswith(b"%PDF") and req.reference in text_of(pdf)


def test_nothing_is_fetched_while_rendering(network: Any, officer: Any, monkeypatch: Any) -> None:
    opened: list[Any] = []
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, *a, **k: opened.append(a))
    payload = {
        **COMPLETE,
        "offence": '<img src="http://127.0.0.1:9/x.png"><link rel=stylesheet href="file:///etc/passwd">',
    }
    req = draft(officer, payload)
    html = documents.render_html(req)
    assert "<img" not in html  # escaped like any other value
    monkeypatch.setattr(documents, "render_html", lambda r: html.replace("</body>", payload["offence"] + "</body>"))
    assert documents.render_pdf(req).startswith(b"%PDF")
    assert opened == []


def _complete_examples() -> list[Any]:
    found = [
        pytest.param(code, kind.examples["complete"], id=code)
        for code, kind in REQUEST_TYPES.items()
        if "complete" in kind.examples
    ]
    return found or [pytest.param("preservation", COMPLETE, id="preservation")]


@pytest.mark.parametrize(("code", "payload"), _complete_examples())
def test_every_request_type_prints(network: Any, officer: Any, code: str, payload: dict[str, Any]) -> None:
    req = draft(officer, payload, type=code)
    pdf = documents.render_pdf(req)
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    kind = REQUEST_TYPES[code]
    assert req.reference in text and flat(kind.article) in text
    for name in kind.schema.model_fields:
        assert flat(str(field_meta(kind.schema, name)["title"])) in text, name
