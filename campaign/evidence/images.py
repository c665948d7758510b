"""Photos: checked from the header against a pixel budget before anything is decoded, decoded once,
shrunk to a thumbnail in strips, so a worker's memory stays bounded whatever the upload claims.

Two budgets, both settings: MAX_IMAGE_PIXELS (40 megapixels) for any photo, and MAX_IMAGE_DECODED_MB
(120 MB) for what a format decoded whole costs: Pillow keeps a pixel in 4 bytes, so a PNG may have
31 megapixels and a WebP (whose decoder holds several copies) 7.8. JPEGs, what phones send, are
decoded at a reduced scale (``Image.draft``), which validates the whole file at a fraction of the memory. Pillow's own
conversions of a whole image (``RGBA`` to premultiplied ``RGBa`` for resizing, alpha compositing,
EXIF rotation) each make a full-size copy; ``make_thumbnail`` does them on strips and on the
thumbnail only. Measured in bench/image_upload_memory.py and docs/performance.md.
"""
import io
import math
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from .messages import UploadError
from .models import FileKind

DEFAULT_MAX_IMAGE_PIXELS = 40_000_000
THUMBNAIL_SIZE = 320
STRIP_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_IMAGE_DECODED_MB = 120
# Pillow keeps a pixel in 4 bytes; its WebP decoder holds about four copies (626 MB for 40 megapixels).
DECODED_BYTES_PER_PIXEL = {"PNG": 4, "WEBP": 16}
EXIF_ZONE_DEFAULT = "Asia/Shanghai"

IMAGE_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
TAG_ORIENTATION = 0x0112
TAG_DATETIME_ORIGINAL = 36867
TAG_OFFSET_TIME_ORIGINAL = 36881


@dataclass
class CheckedImage:
    """A photo whose header passed the budget and whose pixels decoded; ``image`` may be a reduced
    decode (JPEG draft), ``width`` and ``height`` are the photo's own size."""
    image: Image.Image
    width: int
    height: int
    extension: str
    content_type: str
    kind: str = FileKind.IMAGE.value


def max_image_pixels(image_format: str = "JPEG") -> int:
    """The pixel budget, lowered for formats decoded whole so the decoded size stays within
    MAX_IMAGE_DECODED_MB (JPEGs are decoded at draft scale and cost little whatever their size)."""
    budget = int(current_app.config.get("MAX_IMAGE_PIXELS") or DEFAULT_MAX_IMAGE_PIXELS)
    per_pixel = DECODED_BYTES_PER_PIXEL.get(image_format)
    if per_pixel is None:
        return budget
    decoded_mb = int(current_app.config.get("MAX_IMAGE_DECODED_MB") or DEFAULT_MAX_IMAGE_DECODED_MB)
    return min(budget, decoded_mb * 1024 * 1024 // per_pixel)


def _refuse_too_large(name, width=None, height=None, image_format="JPEG"):
    details = {"name": name, "limit_pixels": max_image_pixels(image_format)}
    if width and height:
        details.update(width=width, height=height, pixels=width * height)
    raise UploadError("image_too_large", **details)


def open_image(data: bytes, name: str, allowed) -> CheckedImage:
    """Refuse what is not a JPEG, PNG or WebP, what is over the pixel budget (read from the header,
    nothing decoded yet) and what does not decode."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data), formats=tuple(IMAGE_FORMATS))
            width, height = probe.size
            if width * height > max_image_pixels(probe.format):
                _refuse_too_large(name, width, height, probe.format)
            probe.verify()
            image = Image.open(io.BytesIO(data), formats=tuple(IMAGE_FORMATS))
            if image.format == "JPEG":
                scale = THUMBNAIL_SIZE * 2 / max(width, height)
                image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
            image.load()
    except UploadError:
        raise
    except UnidentifiedImageError:
        raise UploadError("bad_type", name=name, allowed=allowed) from None
    except Image.DecompressionBombError:
        _refuse_too_large(name)
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, TypeError, MemoryError):
        raise UploadError("corrupt_image", name=name) from None
    extension, content_type = IMAGE_FORMATS[image.format]
    return CheckedImage(image, width, height, extension, content_type)


def _flattened(image: Image.Image) -> Image.Image:
    """RGB, transparent parts on white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image.copy()


def _reduced(image: Image.Image, factor: int) -> Image.Image:
    """``image`` flattened to RGB and shrunk by ``factor``, a strip of rows at a time."""
    width, height = image.size
    rows = max(factor, STRIP_BYTES // (4 * width) // factor * factor)
    result = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    for top in range(0, height, rows):
        strip = _flattened(image.crop((0, top, width, min(top + rows, height))))
        result.paste(strip.reduce(factor), (0, top // factor))
    return result


def make_thumbnail(image: Image.Image) -> bytes:
    """A JPEG at most 320 px on its long side, turned upright by its EXIF orientation."""
    try:
        orientation = image.getexif().get(TAG_ORIENTATION)
    except Exception:  # noqa: BLE001 - broken EXIF is common and never a reason to refuse a photo
        orientation = None
    factor = max(1, max(image.size) // (THUMBNAIL_SIZE * 2))
    small = _reduced(image, factor) if factor > 1 else _flattened(image)
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    if orientation:
        small.getexif()[TAG_ORIENTATION] = orientation
        small = ImageOps.exif_transpose(small)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=80, optimize=True)
    return buffer.getvalue()


def read_exif(image: Image.Image):
    """(taken_at, latitude, longitude) from the photo's EXIF; anything absent or broken is None."""
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - broken EXIF is common and never a reason to refuse a photo
        return None, None, None
    return _exif_taken_at(exif), *_exif_position(exif)


def _exif_taken_at(exif) -> datetime | None:
    try:
        try:
            sub_ifd = exif.get_ifd(EXIF_IFD)
        except Exception:  # noqa: BLE001
            sub_ifd = {}
        raw = sub_ifd.get(TAG_DATETIME_ORIGINAL) or exif.get(TAG_DATETIME_ORIGINAL)
        if not raw:
            return None
        if isinstance(raw, bytes):
            raw = raw.decode("ascii", "ignore")
        local = datetime.strptime(str(raw).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
        offset = sub_ifd.get(TAG_OFFSET_TIME_ORIGINAL) or exif.get(TAG_OFFSET_TIME_ORIGINAL)
        zone = _parse_offset(offset) or ZoneInfo(
            current_app.config.get("DEFAULT_TIMEZONE") or EXIF_ZONE_DEFAULT
        )
        return local.replace(tzinfo=zone).astimezone(timezone.utc)
    except Exception:  # noqa: BLE001
        return None


def _parse_offset(value):
    if not value:
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    value = str(value).strip("\x00 ")
    try:
        sign = -1 if value[0] == "-" else 1
        hours, minutes = value.lstrip("+-").split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    except (ValueError, IndexError):
        return None


def _exif_position(exif):
    try:
        gps = exif.get_ifd(GPS_IFD)
        if not gps:
            return None, None
        latitude = _degrees(gps.get(2), gps.get(1), "S")
        longitude = _degrees(gps.get(4), gps.get(3), "W")
        if latitude is None or longitude is None:
            return None, None
        if abs(latitude) > 90 or abs(longitude) > 180:
            return None, None
        # Phones without a fix often write 0/0: not a position in this county.
        if latitude == 0 and longitude == 0:
            return None, None
        return round(latitude, 7), round(longitude, 7)
    except Exception:  # noqa: BLE001
        return None, None


def _degrees(value, ref, negative_ref):
    if value is None:
        return None
    if not isinstance(value, (tuple, list)):
        value = (value,)
    parts = [_rational(part) for part in value[:3]]
    if any(part is None for part in parts):
        return None
    degrees = sum(part / 60**index for index, part in enumerate(parts))
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    if str(ref or "").strip("\x00 ").upper() == negative_ref:
        degrees = -degrees
    return degrees


def _rational(value):
    if isinstance(value, (tuple, list)) and len(value) == 2:
        numerator, denominator = value
        if not denominator:
            return None
        value = numerator / denominator
    try:
        result = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return result if math.isfinite(result) else None


