"""CASE/UCO JSON-LD (caseontology.org): an evidence item and its chain of custody, as a
forensic tool or another State's case system reads it. Validated by ``case_validate``
(PyPI case-utils) in the tests.

The file is a ``uco-observable:File`` with its name, size and SHA-256; each custody event
is a ``case-investigation:InvestigativeAction`` performed by an identity, acting on the
file and resulting in a ``case-investigation:ProvenanceRecord`` that holds it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction

from hanoi247.accounts.models import User
from hanoi247.evidence import services
from hanoi247.evidence.models import EvidenceItem

CONTEXT = {
    "kb": "urn:hanoi247:",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
_NS = uuid.UUID("6f1c7a2e-0d4b-4e55-9a3c-4b1d2e9c7f10")


def _id(kind: str, *parts: Any) -> str:
    """Stable IRIs: the same item exported twice names the same nodes."""
    return f"kb:{kind}-{uuid.uuid5(_NS, '/'.join(str(p) for p in (kind, *parts)))}"


def _dt(value: Any) -> dict[str, str]:
    text = value if isinstance(value, str) else value.isoformat()
    return {"@type": "xsd:dateTime", "@value": text}


def document(item: EvidenceItem) -> dict[str, Any]:
    file_id = _id("file", item.pk)
    graph: list[dict[str, Any]] = [
        {
            "@id": file_id,
            "@type": "uco-observable:File",
            "uco-core:name": item.title,
            "uco-core:description": item.description or item.title,
            "uco-core:hasFacet": [
                {
                    "@id": _id("file-facet", item.pk),
                    "@type": "uco-observable:FileFacet",
                    "uco-observable:fileName": item.filename,
                    "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(item.size)},
                },
                {
                    "@id": _id("content-data-facet", item.pk),
                    "@type": "uco-observable:ContentDataFacet",
                    "uco-observable:mimeType": item.media_type,
                    "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(item.size)},
                    "uco-observable:hash": [
                        {
                            "@id": _id("hash", item.pk),
                            "@type": "uco-types:Hash",
                            "uco-types:hashMethod": "SHA256",
                            "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": item.sha256.upper()},
                        }
                    ],
                },
            ],
        }
    ]
    identities: dict[str, str] = {}
    for n, event in enumerate(services.custody(item)):
        actor = event.actor or "unknown"
        if actor not in identities:
            identities[actor] = _id("identity", actor)
            graph.append({"@id": identities[actor], "@type": "uco-identity:Identity", "uco-core:name": actor})
        record_id = _id("provenance-record", item.pk, n)
        graph.append(
            {
                "@id": record_id,
                "@type": "case-investigation:ProvenanceRecord",
                "case-investigation:exhibitNumber": str(item.pk),
                "uco-core:description": f"{event.action} ({event.state}); audit entry {event.audit_hash or '—'}",
                "uco-core:object": [{"@id": file_id}],
            }
        )
        action: dict[str, Any] = {
            "@id": _id("investigative-action", item.pk, n),
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": event.action,
            "uco-core:description": f"Evidence {event.action} at {event.state}, SHA-256 {item.sha256}",
            "uco-action:performer": {"@id": identities[actor]},
            "uco-action:object": [{"@id": file_id}],
            "uco-action:result": [{"@id": record_id}],
        }
        if event.at:
            action["uco-action:startTime"] = _dt(event.at)
        graph.append(action)
    return {"@context": CONTEXT, "@graph": graph}


def export(user: User, item: EvidenceItem) -> dict[str, Any]:
    """The bundle, recorded as an export (custody: exported)."""
    with transaction.atomic():
        services.record("exported", item, actor=services.actor_label(user), form="case-uco", node=settings.NODE.state)
    return document(item)
