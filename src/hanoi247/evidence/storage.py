"""Where evidence blobs live, chosen by environment (read by settings.py, so no Django here).

HANOI247_EVIDENCE_STORAGE=file (default): files under DATA_DIR/evidence.
HANOI247_EVIDENCE_STORAGE=s3: an S3-compatible object store through django-storages, with
HANOI247_EVIDENCE_S3_BUCKET, _S3_ENDPOINT (for MinIO, Ceph, …), _S3_REGION, _S3_PREFIX;
credentials from the standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or an instance role).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def evidence_storages(env: Mapping[str, str], data_dir: Path) -> dict[str, dict[str, Any]]:
    """Django's STORAGES, with an ``evidence`` alias."""
    kind = env.get("HANOI247_EVIDENCE_STORAGE", "file")
    if kind == "s3":
        evidence: dict[str, Any] = {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": env.get("HANOI247_EVIDENCE_S3_BUCKET", ""),
                "endpoint_url": env.get("HANOI247_EVIDENCE_S3_ENDPOINT") or None,
                "region_name": env.get("HANOI247_EVIDENCE_S3_REGION") or None,
                "location": env.get("HANOI247_EVIDENCE_S3_PREFIX", ""),
                # Blobs are already encrypted (age); never public, never overwritten.
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
            },
        }
    elif kind == "file":
        evidence = {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": env.get("HANOI247_EVIDENCE_DIR", str(data_dir / "evidence")),
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        }
    else:
        raise ValueError(f"HANOI247_EVIDENCE_STORAGE={kind!r}: expected 'file' or 's3'")
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "evidence": evidence,
    }
