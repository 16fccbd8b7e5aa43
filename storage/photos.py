"""The photo pipeline: sniff, cap, decode at reduced scale, orient, strip, resize, hash."""

from __future__ import annotations

import functools
import io
import math
import re
import struct
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Final, Literal

import imagehash
import pillow_heif
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

__all__ = [
    "DISPLAY_MIME",
    "MAX_BYTES",
    "MAX_PIXELS",
    "PhotoRejected",
    "ProcessedPhoto",
    "RejectCode",
    "UploadInfo",
    "phash_distance",
    "process_photo",
    "sniff",
    "validate_upload",
]

# HEIC/HEIF becomes an ordinary Pillow format; the registration is process-wide
# and idempotent, and only adds a format (it changes nothing for the others).
pillow_heif.register_heif_opener()

MAX_BYTES: Final = 15 * 1024 * 1024
MAX_PIXELS: Final = 50_000_000
DISPLAY_MIME: Final = "image/jpeg"

RejectCode = Literal[
    "not-an-image",
    "unsupported-type",
    "truncated",
    "too-large",
    "too-many-pixels",
    "decompression-bomb",
]

_JPEG, _PNG, _WEBP, _HEIC, _HEIF = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "image/heif",
)
# The only Pillow plugin each sniffed type may reach: bytes never get to try
# the parsers of formats we did not sniff (TIFF, PSD, EPS and the rest).
_PIL_FORMAT: Final = {_JPEG: "JPEG", _PNG: "PNG", _WEBP: "WEBP", _HEIC: "HEIF", _HEIF: "HEIF"}

_HEIC_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
)
_HEIF_BRANDS: Final = frozenset({b"mif1", b"msf1", b"mif2", b"miaf"})
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})

_ACCEPTED: Final = "请选择 JPG、PNG、WebP 或 HEIC 照片"
_MESSAGES: Final[dict[RejectCode, str]] = {
    "not-an-image": f"文件不是图片，{_ACCEPTED}",
    "unsupported-type": f"不支持这种图片格式，{_ACCEPTED}",
    # Also used for damaged files: the person's remedy is the same either way.
    "truncated": "照片文件不完整或已损坏（可能上传中断了），请重新上传",
    "too-large": "照片文件太大，请换一张较小的照片",
    "too-many-pixels": "照片像素太多，请换一张较小的照片",
    "decompression-bomb": "照片尺寸异常，无法处理，请换一张照片",
}

# Errors Pillow and pillow-heif raise for bytes they cannot parse or decode.
_DECODE_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, struct.error, RuntimeError)
# Errors a malformed EXIF block can raise while being parsed.
_EXIF_ERRORS: Final = (OSError, SyntaxError, ValueError, TypeError, KeyError, struct.error)

_TRANSPOSE: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# EXIF tags (TIFF/EXIF 2.32 numbering).
_MAKE, _MODEL, _ORIENTATION = 0x010F, 0x0110, 0x0112
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL, _SUBSEC_TIME_ORIGINAL = 0x9003, 0x9011, 0x9291
_GPS_LAT_REF, _GPS_LAT, _GPS_LNG_REF, _GPS_LNG, _GPS_STATUS = 1, 2, 3, 4, 9

_EXIF_DATETIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")
_MAX_CAMERA_CHARS = 100
_HASH_HEX = re.compile(r"[0-9a-f]{16}", re.IGNORECASE)

# Resizing, not decoding, is the largest cost left once JPEGs decode at reduced
# DCT scale (which already leaves less than 2x to go). reducing_gap box-averages
# away the integer part of any larger ratio first, as libvips's shrink does, and
# a support-1 windowed sinc does the rest: 36-47 dB PSNR on the shared photos
# against a full decode resized with Lanczos, around the noise of the q82 encode,
# for about 0.7x the cost of bicubic.
# Thumbnails are small enough to afford Lanczos.
_DISPLAY_FILTER: Final = Image.Resampling.HAMMING
_DISPLAY_REDUCING_GAP: Final = 1.0
_THUMB_FILTER: Final = Image.Resampling.LANCZOS
_THUMB_REDUCING_GAP: Final = 1.5

_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class PhotoRejected(ValueError):
    """A photo refused: a stable code for programs and a Chinese message for people."""

    def __init__(self, code: RejectCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: RejectCode = code
        self.message = message

    def __reduce__(self) -> tuple[type[PhotoRejected], tuple[RejectCode, str]]:
        # Task brokers pickle exceptions; the default would call __init__ with one argument.
        return (type(self), (self.code, self.message))


@dataclass(frozen=True, slots=True)
class UploadInfo:
    """What the cheap upload checks learnt: the sniffed type, oriented size and byte count."""

    mime: str
    width: int
    height: int
    size: int


@dataclass(frozen=True, slots=True)
class ProcessedPhoto:
    """The display copy, thumbnail, perceptual hash and EXIF evidence of one photo."""

    mime: str
    display_bytes: bytes = field(repr=False)
    display_width: int
    display_height: int
    thumb_bytes: bytes = field(repr=False)
    thumb_width: int
    thumb_height: int
    original_width: int
    original_height: int
    phash: str
    exif_gps: tuple[float, float] | None
    # Wall-clock time on the camera, naive on purpose: EXIF records no zone and
    # only sometimes an offset, and guessing one is the caller's business.
    exif_time: datetime | None
    exif_offset: timedelta | None
    camera: str | None

    def captured_at(self, *, assume: tzinfo | None = None) -> datetime | None:
        """The capture time made aware: its recorded offset, else assume, else None."""
        if self.exif_time is None:
            return None
        if self.exif_offset is not None:
            return self.exif_time.replace(tzinfo=timezone(self.exif_offset))
        if assume is not None:
            return self.exif_time.replace(tzinfo=assume)
        return None


def sniff(data: bytes) -> str | None:
    """The MIME type of a supported photo from its magic bytes, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return _JPEG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _WEBP
    brands = _ftyp_brands(data)
    if brands is None:
        return None
    major, compatible = brands
    if major in _HEIC_BRANDS:
        return _HEIC
    if major in _HEIF_BRANDS:
        # mif1/msf1 only say "HEIF structure"; the codec shows in the other brands.
        if compatible & _AVIF_BRANDS:
            return None
        return _HEIC if compatible & _HEIC_BRANDS else _HEIF
    return None


def validate_upload(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> UploadInfo:
    """Check an upload without decoding it; raise PhotoRejected when it must be refused."""
    mime = _ensure_type(data, max_bytes=max_bytes)
    image = _open(data, mime)
    width, height = image.size
    _ensure_pixels(width, height, max_pixels=max_pixels)
    orientation = _orientation(image, mime, _header_exif(image))
    _ensure_complete(data, mime, image)
    if orientation >= 5:
        width, height = height, width
    return UploadInfo(mime=mime, width=width, height=height, size=len(data))


def process_photo(
    data: bytes,
    *,
    display_max: int = 1600,
    thumb_max: int = 320,
    quality: int = 82,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
) -> ProcessedPhoto:
    """Decode, orient and strip a photo into a display JPEG and a thumbnail, with its evidence."""
    if display_max < 1 or thumb_max < 1:
        raise ValueError("display_max and thumb_max must be positive")
    if not 1 <= quality <= 95:
        raise ValueError("quality must be within 1..95")
    # The same checks as the upload path: a task may meet bytes that never went through it.
    upload = validate_upload(data, max_bytes=max_bytes, max_pixels=max_pixels)
    mime = upload.mime
    image = _open(data, mime)
    stored_width, stored_height = image.size
    display_size = _fit(stored_width, stored_height, display_max)
    if mime == _JPEG and display_size != image.size:
        # The box must have the photo's aspect ratio: draft() picks the scale from
        # the smaller of the two ratios, so a square box decodes at full scale.
        image.draft("RGB", display_size)
    try:
        image.load()
    except _DECODE_ERRORS as exc:
        raise _rejected("truncated") from exc
    # Read after load(): a PNG may keep its eXIf chunk after the pixel data.
    exif = _loaded_exif(image)
    orientation = _orientation(image, mime, exif)
    icc = image.info.get("icc_profile")

    # Everything runs on the reduced image: resize first, then colour and orientation.
    working = _flatten(image)
    if working.size != display_size:
        working = working.resize(display_size, _DISPLAY_FILTER, reducing_gap=_DISPLAY_REDUCING_GAP)
    display = _to_srgb(working, icc if isinstance(icc, bytes) else None)
    thumb_size = _fit(display.width, display.height, thumb_max)
    thumb = display
    if thumb_size != display.size:
        thumb = display.resize(thumb_size, _THUMB_FILTER, reducing_gap=_THUMB_REDUCING_GAP)
    transpose = _TRANSPOSE.get(orientation)
    if transpose is not None:
        display = display.transpose(transpose)
        thumb = thumb.transpose(transpose)

    # From the orientation read after load(), which a PNG's late eXIf can change.
    original_width, original_height = stored_width, stored_height
    if orientation >= 5:
        original_width, original_height = stored_height, stored_width
    return ProcessedPhoto(
        mime=mime,
        display_bytes=_encode_jpeg(display, quality=quality),
        display_width=display.width,
        display_height=display.height,
        thumb_bytes=_encode_jpeg(thumb, quality=quality),
        thumb_width=thumb.width,
        thumb_height=thumb.height,
        original_width=original_width,
        original_height=original_height,
        phash=str(imagehash.phash(thumb)),
        exif_gps=_gps(exif),
        exif_time=_capture_time(exif),
        exif_offset=_capture_offset(exif),
        camera=_camera(exif),
    )


def phash_distance(a_hex: str, b_hex: str) -> int:
    """The Hamming distance between two 64-bit perceptual hashes in hex."""
    return (_hash_bits(a_hex) ^ _hash_bits(b_hex)).bit_count()


# -- checks -------------------------------------------------------------------


def _rejected(code: RejectCode, message: str | None = None) -> PhotoRejected:
    """A PhotoRejected with the standard message for code unless a specific one is given."""
    return PhotoRejected(code, message or _MESSAGES[code])


def _ensure_type(data: bytes, *, max_bytes: int) -> str:
    """The sniffed MIME type of data, after the byte cap; raise PhotoRejected otherwise."""
    if not data:
        raise _rejected("not-an-image", f"没有收到照片内容，{_ACCEPTED}")
    if len(data) > max_bytes:
        raise _rejected(
            "too-large",
            f"照片文件太大（{len(data) / 2**20:.1f} MB），"
            f"请选择不超过 {max_bytes / 2**20:g} MB 的照片",
        )
    mime = sniff(data)
    if mime is not None:
        return mime
    kind = _other_image_kind(data)
    if kind is not None:
        raise _rejected("unsupported-type", f"不支持 {kind} 格式的图片，{_ACCEPTED}")
    raise _rejected("not-an-image")


def _open(data: bytes, mime: str) -> ImageFile.ImageFile:
    """Open data lazily (header only) with the one plugin its sniffed type allows."""
    # Pillow warns, rather than raises, between MAX_IMAGE_PIXELS and twice that.
    # Raising here refuses such a header without decoding it, the same way under
    # pytest's warnings-as-errors and in production. catch_warnings is not
    # thread-safe on 3.11; if a concurrent caller clobbers the filter, the
    # warning is merely printed and _ensure_pixels still refuses the photo.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[mime]])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _rejected("decompression-bomb") from exc
        except (UnidentifiedImageError, *_DECODE_ERRORS) as exc:
            # The magic bytes were right, so the rest of the file is damaged or missing.
            raise _rejected("truncated") from exc


def _ensure_pixels(width: int, height: int, *, max_pixels: int) -> None:
    """Raise PhotoRejected when the declared size is empty or over the pixel cap."""
    if width < 1 or height < 1:
        raise _rejected("truncated")
    if width * height > max_pixels:
        raise _rejected(
            "too-many-pixels",
            f"照片像素太多（{width}×{height}），请选择不超过 {max_pixels / 10_000:g} 万像素的照片",
        )


def _ensure_complete(data: bytes, mime: str, image: ImageFile.ImageFile) -> None:
    """Raise PhotoRejected("truncated") when the file visibly ends too early."""
    if mime == _JPEG:
        complete = _jpeg_complete(data)
    elif mime == _WEBP:
        complete = _webp_complete(data)
    elif mime in (_HEIC, _HEIF):
        complete = _isobmff_complete(data)
    else:
        # PNG: walks the chunks and checks their CRCs without inflating the pixels.
        # verify() spends the image object, so callers that decode open their own.
        try:
            image.verify()
        except _DECODE_ERRORS:
            complete = False
        else:
            complete = True
    if not complete:
        raise _rejected("truncated")


def _jpeg_complete(data: bytes) -> bool:
    """Whether the first image in a JPEG reaches its EOI marker."""
    # Walk the marker segments to the first scan, then look for EOI after it.
    # Byte stuffing keeps FF D9 out of entropy-coded data, so the first one after
    # the scan header ends the primary image: the EXIF thumbnail's EOI (inside
    # APP1) is skipped, and data phones append after EOI (motion-photo videos,
    # MPF images) neither hides a truncation nor looks like one.
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            pos += 1  # stray bytes between segments; libjpeg skips them too
            continue
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker == 0xD9:
            return False
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:
            return False
        if marker == 0xDA:
            return data.find(b"\xff\xd9", pos + 2 + length) != -1
        pos += 2 + length
    return False


def _webp_complete(data: bytes) -> bool:
    """Whether a WebP file holds all the bytes its RIFF header announces."""
    return len(data) >= 8 + int.from_bytes(data[4:8], "little")


def _isobmff_complete(data: bytes) -> bool:
    """Whether the top-level boxes of a HEIF file end exactly where the file does."""
    pos, end = 0, len(data)
    while pos < end:
        if pos + 8 > end:
            return False
        size, header = int.from_bytes(data[pos : pos + 4], "big"), 8
        if size == 1:
            if pos + 16 > end:
                return False
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            return True  # the last box runs to the end of the file
        if size < header:
            return False
        pos += size
    return pos == end


def _ftyp_brands(data: bytes) -> tuple[bytes, frozenset[bytes]] | None:
    """The major and compatible brands of an ISO-BMFF ftyp box at the start of data."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    box_end = min(int.from_bytes(data[:4], "big"), len(data), 256)
    compatible = frozenset(data[i : i + 4] for i in range(16, box_end - 3, 4))
    return data[8:12], compatible


def _other_image_kind(data: bytes) -> str | None:
    """The name of an image format we recognise but do not accept, or None."""
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:2] == b"BM" and data[14:18] in (
        b"\x0c\x00\x00\x00",
        b"\x28\x00\x00\x00",
        b"\x38\x00\x00\x00",
        b"\x6c\x00\x00\x00",
        b"\x7c\x00\x00\x00",
    ):
        return "BMP"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF/RAW"
    if data[:4] == b"8BPS":
        return "PSD"
    if data[:4] == b"\x00\x00\x01\x00":
        return "ICO"
    if data[:2] == b"\xff\x0a" or data[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "JPEG XL"
    if data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n":
        return "JPEG 2000"
    brands = _ftyp_brands(data)
    if brands is not None and ({brands[0]} | brands[1]) & _AVIF_BRANDS:
        return "AVIF"
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in head:
        return "SVG"
    return None


# -- decoding -----------------------------------------------------------------


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    """width x height scaled down so its longer side is at most box, never up."""
    longest = max(width, height)
    if longest <= box:
        return width, height
    scale = box / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _flatten(image: Image.Image) -> Image.Image:
    """The image in an 8-bit mode without alpha (L, RGB or CMYK), transparency on white."""
    if image.mode in ("L", "RGB", "CMYK"):
        return image
    if image.mode.startswith("I"):
        # 16-bit greyscale PNG; convert() would clip at 255 instead of scaling.
        return image.point(lambda value: value / 256, "L")
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """image in RGB, converted from its embedded ICC profile to sRGB where it has one."""
    transform = _srgb_transform(icc, image.mode) if icc else None
    if transform is not None:
        return transform.apply(image)
    return image if image.mode == "RGB" else image.convert("RGB")


@functools.lru_cache(maxsize=32)
def _srgb_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached transform from the profile icc to sRGB, or None for sRGB and bad profiles."""
    # Outputs carry no ICC profile, so their pixels must already be sRGB, the
    # colour space every viewer assumes for an untagged JPEG. Dropping a Display
    # P3 or Adobe RGB profile without converting would wash the colours out.
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if mode == "RGB" and "sRGB" in (profile.profile.profile_description or ""):
            return None
        # NOCACHE: the transform is shared between threads, and lcms's
        # one-pixel cache is state that concurrent apply() calls would race on.
        return ImageCms.buildTransform(profile, _SRGB, mode, "RGB", flags=ImageCms.Flags.NOCACHE)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A profile lcms cannot use (or one for another colour space) is ignored,
        # which is what a browser does with it too.
        return None


def _encode_jpeg(image: Image.Image, *, quality: int) -> bytes:
    """image as a baseline JPEG carrying no metadata at all."""
    # Pillow copies info along through resize/transpose, and the JPEG writer
    # reads the comment (COM marker) from it; an empty info leaves nothing behind.
    image.info = {}
    buffer = io.BytesIO()
    # optimize/progressive would save 2-5 % of the bytes for 2-4x the encode time.
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


# -- EXIF evidence ------------------------------------------------------------


def _header_exif(image: ImageFile.ImageFile) -> Image.Exif:
    """The EXIF block available without decoding: a PNG's getexif() would load the pixels."""
    if image.format == "PNG" and "exif" not in image.info:
        return Image.Exif()
    return _loaded_exif(image)


def _loaded_exif(image: Image.Image) -> Image.Exif:
    """image's EXIF, or an empty one when the block is malformed."""
    try:
        return image.getexif()
    except _EXIF_ERRORS:
        return Image.Exif()


def _orientation(image: Image.Image, mime: str, exif: Image.Exif) -> int:
    """The EXIF orientation still to apply (1..8), 1 when absent or invalid."""
    if mime in (_HEIC, _HEIF):
        # libheif has already applied the HEIF irot/imir transforms, and
        # pillow-heif resets the EXIF tag so it is not applied a second time.
        return 1
    value = exif.get(_ORIENTATION)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _ifd(exif: Image.Exif, tag: int) -> dict[int, object]:
    """A sub-IFD of exif, empty when absent or malformed."""
    try:
        return dict(exif.get_ifd(tag))
    except _EXIF_ERRORS:
        return {}


def _gps(exif: Image.Exif) -> tuple[float, float] | None:
    """(latitude, longitude) in signed decimal degrees, or None when absent or malformed."""
    gps = _ifd(exif, _GPS_IFD)
    if _text(gps.get(_GPS_STATUS)) == "V":
        return None  # the receiver said its measurement is void
    lat = _degrees(gps.get(_GPS_LAT), _text(gps.get(_GPS_LAT_REF)), "N", "S", 90.0)
    lng = _degrees(gps.get(_GPS_LNG), _text(gps.get(_GPS_LNG_REF)), "E", "W", 180.0)
    if lat is None or lng is None:
        return None
    if lat == 0.0 and lng == 0.0:
        return None  # what phones write when they have no fix
    return round(lat, 7), round(lng, 7)


def _degrees(value: object, ref: str | None, plus: str, minus: str, limit: float) -> float | None:
    """Degrees, minutes and seconds with a hemisphere reference as signed degrees."""
    if ref not in (plus, minus) or not isinstance(value, tuple) or not 1 <= len(value) <= 3:
        return None
    try:
        parts = [float(part) for part in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    # A zero denominator reads as NaN; negative parts have no meaning in DMS.
    if not all(math.isfinite(part) and part >= 0 for part in parts):
        return None
    degrees = sum(part / 60.0**index for index, part in enumerate(parts))
    if degrees > limit:
        return None
    return -degrees if ref == minus else degrees


def _capture_time(exif: Image.Exif) -> datetime | None:
    """DateTimeOriginal (with its sub-seconds) as a naive wall-clock time, or None."""
    ifd = _ifd(exif, _EXIF_IFD)
    text = _text(ifd.get(_DATETIME_ORIGINAL))
    match = _EXIF_DATETIME.fullmatch(text or "")
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    subsec = _text(ifd.get(_SUBSEC_TIME_ORIGINAL)) or ""
    microsecond = int(subsec[:6].ljust(6, "0")) if subsec.isdigit() else 0
    try:
        # Naive by design: the camera clock's zone is unknown (see ProcessedPhoto).
        return datetime(year, month, day, hour, minute, second, microsecond)  # noqa: DTZ001
    except ValueError:
        return None  # "0000:00:00 00:00:00" and other placeholders


def _capture_offset(exif: Image.Exif) -> timedelta | None:
    """OffsetTimeOriginal as a UTC offset, or None when absent or malformed."""
    text = _text(_ifd(exif, _EXIF_IFD).get(_OFFSET_TIME_ORIGINAL))
    match = _EXIF_OFFSET.fullmatch(text or "")
    if match is None:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3))
    if hours > 14 or minutes >= 60:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return -offset if sign == "-" else offset


def _camera(exif: Image.Exif) -> str | None:
    """The camera as "make model", without the make twice, or None."""
    make, model = _text(exif.get(_MAKE)), _text(exif.get(_MODEL))
    if make and model and model.lower().startswith(make.split()[0].lower()):
        camera = model  # "Canon" + "Canon EOS 40D"
    else:
        camera = " ".join(part for part in (make, model) if part)
    return camera[:_MAX_CAMERA_CHARS] or None


def _text(value: object) -> str | None:
    """An EXIF ASCII value as clean text (no NULs, no control characters), or None."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = " ".join(_CONTROL_CHARS.sub(" ", value).split())
    return text or None


def _hash_bits(value: str) -> int:
    """A 64-bit hash from its 16 hex digits; raise ValueError otherwise."""
    # int(value, 16) alone would also take "0x", "_", signs and whitespace.
    if not _HASH_HEX.fullmatch(value):
        raise ValueError(f"not a 64-bit hash in hex: {value!r}")
    return int(value, 16)
