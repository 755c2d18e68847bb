"""Fingerprints of an image: PDQ (perceptual, survives resizing and recompression) and the
MD5 and SHA-256 of the exact bytes. Everything is computed in memory on this node."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image, UnidentifiedImageError

# Formats a browser shows without plug-ins; anything else is refused at recording.
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
MAX_PIXELS = 50_000_000  # a decompression bomb is refused, not decoded
PDQ_BITS = 256


class ImageError(ValueError):
    pass


@dataclass(frozen=True)
class Fingerprint:
    pdq: str  # 64 hex digits
    pdq_quality: int  # 0-100; PDQ's own advice is to distrust below 50
    md5: str
    sha256: str
    content_type: str


def decode(data: bytes) -> tuple[Image.Image, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageError(f"not an image this node can read: {exc}") from None
    if image.format not in CONTENT_TYPES:
        raise ImageError(f"image format {image.format!r} is not accepted: JPEG, PNG, GIF or WebP")
    if image.width * image.height > MAX_PIXELS:
        raise ImageError("image is too large")
    return image, CONTENT_TYPES[image.format]


def pdq_of(image: Image.Image) -> tuple[str, int]:
    bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return bits_to_hex(bits), int(quality)


def bits_to_hex(bits: np.ndarray) -> str:
    return int("".join("1" if b else "0" for b in bits), 2).to_bytes(PDQ_BITS // 8, "big").hex()


def fingerprint(data: bytes) -> Fingerprint:
    image, content_type = decode(data)
    pdq, quality = pdq_of(image)
    return Fingerprint(
        pdq=pdq,
        pdq_quality=quality,
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
    )


def hamming(a: str, b: str) -> int:
    """Bits that differ between two PDQ hashes (64 hex digits each)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def is_hex(value: str, length: int) -> bool:
    return len(value) == length and all(c in "0123456789abcdef" for c in value)
