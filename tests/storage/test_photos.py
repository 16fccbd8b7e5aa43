"""The photo pipeline on the shared real photos and on images built here."""

from __future__ import annotations

import csv
import functools
import io
import itertools
import pickle
import re
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageCms, ImageFile, ImageStat, JpegImagePlugin, TiffImagePlugin

from storage import (
    MAX_BYTES,
    PhotoRejected,
    ProcessedPhoto,
    phash_distance,
    process_photo,
    sniff,
    validate_upload,
)

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "photos"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
GPS_IFD, EXIF_IFD = 0x8825, 0x8769


def _sources() -> list[dict[str, str]]:
    """The rows of SOURCES.tsv, or none when the shared photos are absent."""
    path = PHOTOS / "SOURCES.tsv"
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


SOURCES = {row["file"]: row for row in _sources()}
# The photos ship with the tests: a missing one is a failure, not a skip.
needs_photos = pytest.mark.usefixtures()


def _photo_params() -> list[Any]:
    """One param per shared photo, or a single skipped param when there are none."""
    if not SOURCES:
        return [pytest.param("absent", marks=needs_photos)]
    return sorted(SOURCES)


def photo(name: str) -> bytes:
    """The bytes of one of the sample photos in tests/data/photos."""
    return (PHOTOS / name).read_bytes()


@functools.cache
def processed(name: str) -> ProcessedPhoto:
    """process_photo of a shared photo, computed once per session."""
    return process_photo(photo(name))


def decoded(data: bytes) -> Image.Image:
    """An output JPEG opened and loaded."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """The mean absolute per-channel difference of two same-sized RGB images."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def synthetic(size: tuple[int, int] = (400, 300), mode: str = "RGB") -> Image.Image:
    """A deterministic image with detail everywhere (a Mandelbrot render)."""
    grey = Image.effect_mandelbrot(size, (-2.0, -1.2, 0.8, 1.2), 64)
    rgb = Image.merge("RGB", (grey, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT), grey))
    return rgb.convert(mode) if mode != "RGB" else rgb


def encoded(image: Image.Image, format: str, **params: Any) -> bytes:
    """image saved in format."""
    buffer = io.BytesIO()
    image.save(buffer, format=format, **params)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height over a few KB of zlib zeros."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # Megabytes of zeros squeeze into kilobytes: the shape of a decompression bomb.
    pixels = zlib.compress(bytes(4 * 1024 * 1024), 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """An ISO-BMFF ftyp box followed by an empty mdat."""
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08mdat"


def jpeg_segments(data: bytes) -> list[int]:
    """The markers of a JPEG's segments from SOI up to the first SOS."""
    markers, pos = [], 2
    while pos + 4 <= len(data):
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return markers


def oriented_size(row: dict[str, str]) -> tuple[int, int]:
    """The size SOURCES.tsv gives a photo, after its EXIF orientation."""
    width, height = (int(part) for part in row["size"].split("x"))
    return (height, width) if int(row["exif_orientation"]) >= 5 else (width, height)


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any pixel decode fail the test."""

    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError(f"decoded a {self.format} image")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


# -- every real photo ---------------------------------------------------------


@pytest.mark.parametrize("name", _photo_params())
def test_every_photo_processes_within_the_size_caps(name: str) -> None:
    """Each shared photo gives a display copy <= 1600 px and a thumbnail <= 320 px."""
    row = SOURCES[name]
    result = processed(name)
    width, height = oriented_size(row)
    assert (result.original_width, result.original_height) == (width, height)
    assert result.mime == ("image/jpeg" if row["format"] == "JPEG" else "image/heic")

    display, thumb = decoded(result.display_bytes), decoded(result.thumb_bytes)
    assert display.format == thumb.format == "JPEG"
    assert display.mode == thumb.mode == "RGB"
    assert display.size == (result.display_width, result.display_height)
    assert thumb.size == (result.thumb_width, result.thumb_height)
    assert max(display.size) == min(1600, max(width, height))
    assert max(thumb.size) == min(320, max(width, height))
    # The aspect ratio survives both resizes (to within rounding).
    assert abs(display.width * height - display.height * width) <= max(width, height)
    assert abs(thumb.width * height - thumb.height * width) <= max(width, height)

    info = validate_upload(photo(name))
    assert (info.mime, info.width, info.height) == (result.mime, width, height)
    assert info.size == int(row["bytes"])


@pytest.mark.parametrize("name", _photo_params())
def test_outputs_carry_no_metadata(name: str) -> None:
    """Display and thumbnail JPEGs keep no EXIF, GPS, XMP, ICC profile or comment."""
    result = processed(name)
    for data in (result.display_bytes, result.thumb_bytes):
        image = Image.open(io.BytesIO(data))
        assert not image.getexif()
        assert not image.getexif().get_ifd(GPS_IFD)
        for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "mp"):
            assert key not in image.info
        assert b"Exif\x00\x00" not in data
        assert b"http://ns.adobe.com/" not in data
        assert b"ICC_PROFILE" not in data
        # Only JFIF (APP0), tables and the frame before the scan: no APPn or COM
        # segment could hold anything. (A plain b"GPS" search would be a coin toss
        # on entropy-coded data; without an EXIF segment there is nowhere for GPS.)
        assert set(jpeg_segments(data)) <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDA}


def test_validate_upload_never_decodes_pixels(no_decoding: None) -> None:
    """The upload checks read headers only, for every shared photo and a PNG and WebP."""
    samples = [photo(name) for name in SOURCES] + [
        encoded(synthetic(), "PNG"),
        encoded(synthetic(), "WEBP"),
    ]
    for data in samples:
        assert validate_upload(data).size == len(data)


# -- orientation --------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(2, 9))
def test_landscape_orientations_match_orientation_1(orientation: int) -> None:
    """orientation_landscape_N, oriented, looks like orientation_landscape_1."""
    reference = decoded(processed("orientation_landscape_1.jpg").display_bytes)
    result = processed(f"orientation_landscape_{orientation}.jpg")
    display = decoded(result.display_bytes)
    assert display.size == reference.size == (600, 450)
    assert decoded(result.thumb_bytes).size == (320, 240)
    difference = mean_difference(display, reference)
    # Re-encoding (and converting 2..8 from their Generic RGB profile, which
    # 1 lacks) leaves ~6 levels; any wrong flip or turn of this scene leaves ~50.
    wrong = min(
        mean_difference(display.transpose(method), reference)
        for method in (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM)
    )
    assert difference < 12
    assert difference < wrong / 4


@pytest.mark.parametrize(
    ("name", "size"),
    [("orientation_portrait_6.jpg", (450, 600)), ("hdr_canon_hdr_NO.jpg", (1200, 1600))],
)
def test_orientation_6_comes_out_portrait(name: str, size: tuple[int, int]) -> None:
    """A landscape-stored photo tagged orientation 6 becomes a portrait display and thumb."""
    result = processed(name)
    assert (result.display_width, result.display_height) == size
    assert result.thumb_height == 320 > result.thumb_width
    assert result.original_height > result.original_width


def test_heic_is_oriented_by_libheif_once() -> None:
    """The iPhone HEIC (stored rotated, irot + EXIF 6) comes out portrait, not turned twice."""
    result = processed("heic_mobile_iphone_13_pro_max.HEIC")
    assert result.mime == "image/heic"
    assert (result.display_width, result.display_height) == (1200, 1600)
    assert (result.original_width, result.original_height) == (3024, 4032)


def test_png_exif_orientation_is_applied() -> None:
    """A PNG's eXIf orientation is honoured like a JPEG's."""
    exif = Image.Exif()
    exif[0x0112] = 6
    source = synthetic((400, 300))
    result = process_photo(encoded(source, "PNG", exif=exif))
    assert (result.display_width, result.display_height) == (300, 400)
    expected = source.transpose(Image.Transpose.ROTATE_270)
    assert mean_difference(decoded(result.display_bytes), expected) < 6


def test_jpeg_decodes_at_reduced_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 3264x2448 JPEG is drafted with a box of its own aspect ratio, at 1/2 scale."""
    calls: list[tuple[tuple[int, int] | None, tuple[int, int]]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(
        self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None
    ) -> Any:
        result = original(self, mode, size)
        calls.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    process_photo(photo("mobile_jolla.jpg"))
    assert calls == [((1600, 1200), (1632, 1224))]


# -- EXIF evidence ------------------------------------------------------------


def _gps_rows() -> list[Any]:
    rows = [pytest.param(name, row["exif_gps"], id=name) for name, row in sorted(SOURCES.items())]
    return rows or [pytest.param("absent", "no", marks=needs_photos)]


@pytest.mark.parametrize(("name", "expected"), _gps_rows())
def test_gps_matches_sources(name: str, expected: str) -> None:
    """GPS where SOURCES.tsv lists coordinates; None where it has none or an empty GPS IFD."""
    gps = processed(name).exif_gps
    match = re.fullmatch(r"yes \((-?[\d.]+), (-?[\d.]+)\)", expected)
    if match is None:
        assert gps is None
    else:
        assert gps == pytest.approx((float(match[1]), float(match[2])), abs=1e-6)


def test_gps_dscn0010_is_in_tuscany() -> None:
    """DSCN0010 was taken near Arezzo: north-east hemisphere, 43.47 N 11.89 E."""
    lat, lng = processed("gps_DSCN0010.jpg").exif_gps or (None, None)
    assert lat == pytest.approx(43.467448, abs=1e-5)
    assert lng == pytest.approx(11.885127, abs=1e-5)


def test_western_hemisphere_is_negative() -> None:
    """GPSLongitudeRef W gives a negative longitude (the iPhone 6 photo in Madrid)."""
    assert processed("hdr_iphone_hdr_YES.jpg").exif_gps == pytest.approx(
        (40.446972, -3.724753), abs=1e-5
    )


def test_capture_time_camera_and_offset() -> None:
    """DateTimeOriginal is naive wall time; OffsetTimeOriginal comes separately."""
    nikon = processed("gps_DSCN0010.jpg")
    assert nikon.exif_time == datetime(2008, 10, 22, 16, 28, 39)
    assert nikon.exif_offset is None
    assert nikon.captured_at() is None
    shanghai = timezone(timedelta(hours=8))
    assert nikon.captured_at(assume=shanghai) == datetime(2008, 10, 22, 16, 28, 39, tzinfo=shanghai)
    assert nikon.camera == "NIKON COOLPIX P6000"

    nokia = processed("mobile_HMD_Nokia_8.3_5G.jpg")
    assert nokia.exif_offset == timedelta(hours=3)
    assert nokia.captured_at(assume=shanghai) == datetime(2022, 8, 14, 11, 12, 31, tzinfo=UTC)
    assert nokia.camera == "HMD Global Nokia 8.3 5G"

    iphone = processed("heic_mobile_iphone_13_pro_max.HEIC")
    assert iphone.exif_time == datetime(2022, 2, 16, 12, 55, 41, 762000)
    assert iphone.exif_offset == timedelta(hours=1)
    assert iphone.camera == "Apple iPhone 13 Pro Max"

    assert processed("Canon_40D.jpg").camera == "Canon EOS 40D"  # not "Canon Canon EOS 40D"
    for name in ("orientation_landscape_1.jpg", "xmp_no_exif.jpg", "heic_samplefilehub.heif"):
        result = processed(name)
        assert (result.exif_time, result.exif_offset, result.camera) == (None, None, None)


def _with_exif(exif: Image.Exif) -> bytes:
    return encoded(synthetic((200, 150)), "JPEG", exif=exif)


def _gps_exif(**tags: Any) -> Image.Exif:
    """An EXIF block with a GPS IFD; tags named lat_ref, lat, lng_ref, lng, status."""
    numbers = {"lat_ref": 1, "lat": 2, "lng_ref": 3, "lng": 4, "status": 9}
    exif = Image.Exif()
    gps = exif.get_ifd(GPS_IFD)
    for key, value in tags.items():
        gps[numbers[key]] = value
    return exif


def _dms(*parts: tuple[int, int]) -> tuple[TiffImagePlugin.IFDRational, ...]:
    return tuple(TiffImagePlugin.IFDRational(num, den) for num, den in parts)


def test_gps_from_hand_made_exif() -> None:
    """South and west come out negative; DMS add up."""
    exif = _gps_exif(
        lat_ref="S",
        lat=_dms((33, 1), (52, 1), (3000, 100)),
        lng_ref="W",
        lng=_dms((70, 1), (30, 1)),
    )
    assert process_photo(_with_exif(exif)).exif_gps == pytest.approx((-33.875, -70.5))


@pytest.mark.parametrize(
    "tags",
    [
        {
            "lat_ref": "N",
            "lat": _dms((30, 0), (1, 1), (1, 1)),
            "lng_ref": "E",
            "lng": _dms((120, 1)),
        },
        {"lat": _dms((30, 1)), "lng_ref": "E", "lng": _dms((120, 1))},
        {"lat_ref": "X", "lat": _dms((30, 1)), "lng_ref": "E", "lng": _dms((120, 1))},
        {"lat_ref": "N", "lat": _dms((95, 1)), "lng_ref": "E", "lng": _dms((120, 1))},
        {"lat_ref": "N", "lat": _dms((0, 1)), "lng_ref": "E", "lng": _dms((0, 1))},
        {
            "lat_ref": "N",
            "lat": _dms((30, 1), (1, 1), (1, 1), (1, 1)),
            "lng_ref": "E",
            "lng": _dms((120, 1)),
        },
        {
            "lat_ref": "N",
            "lat": _dms((30, 1)),
            "lng_ref": "E",
            "lng": _dms((120, 1)),
            "status": "V",
        },
    ],
    ids=[
        "zero-denominator",
        "no-ref",
        "bad-ref",
        "out-of-range",
        "null-island",
        "four-parts",
        "void",
    ],
)
def test_malformed_gps_is_none(tags: dict[str, Any]) -> None:
    """GPS that cannot be trusted is reported as absent, never as a wrong place."""
    assert process_photo(_with_exif(_gps_exif(**tags))).exif_gps is None


@pytest.mark.parametrize(
    ("original", "offset", "time", "expected_offset"),
    [
        ("2024:03:01 09:30:15", "+08:00", datetime(2024, 3, 1, 9, 30, 15), timedelta(hours=8)),
        (
            "2024:03:01 09:30:15\x00",
            "-05:30",
            datetime(2024, 3, 1, 9, 30, 15),
            -timedelta(hours=5, minutes=30),
        ),
        ("0000:00:00 00:00:00", "+08:00", None, timedelta(hours=8)),
        ("    :  :     :  :  ", "+25:00", None, None),
        ("yesterday", "CST", None, None),
    ],
)
def test_capture_time_from_hand_made_exif(
    original: str, offset: str, time: datetime | None, expected_offset: timedelta | None
) -> None:
    """Placeholders and malformed values give None rather than an invented time."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Xiaomi", "Redmi Note 12"
    sub = exif.get_ifd(EXIF_IFD)
    sub[0x9003], sub[0x9011] = original, offset
    result = process_photo(_with_exif(exif))
    assert (result.exif_time, result.exif_offset) == (time, expected_offset)
    assert result.camera == "Xiaomi Redmi Note 12"


# -- colour and modes ---------------------------------------------------------


def _flat(colour: tuple[int, int, int], **params: Any) -> tuple[int, int, int]:
    """The centre pixel of the display copy of a flat-colour JPEG saved with params."""
    data = encoded(Image.new("RGB", (64, 64), colour), "JPEG", quality=95, **params)
    pixel = decoded(process_photo(data).display_bytes).getpixel((32, 32))
    assert isinstance(pixel, tuple)
    return (int(pixel[0]), int(pixel[1]), int(pixel[2]))


def test_display_p3_is_converted_to_srgb() -> None:
    """Display P3 pixels are converted, not relabelled; sRGB pixels are left alone."""
    heic = Image.open(io.BytesIO(photo("heic_mobile_iphone_13_pro_max.HEIC")))
    p3 = heic.info["icc_profile"]
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    colour = (200, 100, 50)
    assert (
        max(abs(a - b) for a, b in zip(_flat(colour, icc_profile=srgb), colour, strict=True)) <= 3
    )
    converted = _flat(colour, icc_profile=p3)
    # P3 orange is more saturated than sRGB's: red rises, green and blue fall.
    assert converted[0] > colour[0] + 8
    assert converted[2] < colour[2] - 8


def test_broken_icc_profile_is_ignored() -> None:
    """A profile lcms cannot read is dropped, like a browser would, and the photo processed."""
    assert (
        max(
            abs(a - b)
            for a, b in zip(
                _flat((90, 160, 30), icc_profile=b"junk" * 40), (90, 160, 30), strict=True
            )
        )
        <= 3
    )


def test_transparency_goes_on_white() -> None:
    """Transparent pixels of a PNG become white, not black."""
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 50, 100))
    display = decoded(process_photo(encoded(image, "PNG")).display_bytes)
    right, left = display.getpixel((75, 50)), display.getpixel((25, 50))
    assert isinstance(right, tuple) and isinstance(left, tuple)
    assert min(right) >= 250
    assert left[2] >= 250 and left[0] <= 5


@pytest.mark.parametrize(
    ("mode", "format"),
    [
        ("P", "PNG"),
        ("L", "PNG"),
        ("LA", "PNG"),
        ("1", "PNG"),
        ("L", "JPEG"),
        ("CMYK", "JPEG"),
        ("RGB", "WEBP"),
        ("RGBA", "WEBP"),
    ],
)
def test_other_modes_and_formats_become_rgb_jpeg(mode: str, format: str) -> None:
    """Palette, grey, bilevel, CMYK and WebP inputs all give RGB JPEG outputs."""
    data = encoded(synthetic((800, 600), mode), format)
    result = process_photo(data)
    assert result.mime == {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[format]
    assert (result.display_width, result.display_height) == (800, 600)
    assert decoded(result.display_bytes).mode == "RGB"


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    """A 16-bit grey PNG keeps its mid-tones instead of saturating to white."""
    data = encoded(Image.new("I;16", (64, 64), 40000), "PNG")
    pixel = decoded(process_photo(data).display_bytes).getpixel((32, 32))
    assert isinstance(pixel, tuple)
    assert abs(pixel[0] - 40000 // 256) <= 2


def test_large_png_is_resized_down() -> None:
    """A 4000x3000 PNG (no DCT scaling) still comes out at 1600 and 320."""
    data = encoded(synthetic((4000, 3000)), "PNG", compress_level=1)
    result = process_photo(data)
    assert (result.display_width, result.display_height) == (1600, 1200)
    assert (result.thumb_width, result.thumb_height) == (320, 240)


def test_custom_sizes_and_quality() -> None:
    """display_max, thumb_max and quality are honoured."""
    data = photo("gps_DSCN0010.jpg")
    result = process_photo(data, display_max=500, thumb_max=100, quality=50)
    assert (result.display_width, result.display_height) == (500, 375)
    assert (result.thumb_width, result.thumb_height) == (100, 75)
    assert len(result.display_bytes) < len(processed("gps_DSCN0010.jpg").display_bytes)
    with pytest.raises(ValueError):
        process_photo(data, quality=0)
    with pytest.raises(ValueError):
        process_photo(data, display_max=0)


# -- determinism and perceptual hashes ----------------------------------------


@pytest.mark.parametrize("name", ["gps_DSCN0010.jpg", "heic_mobile_iphone_13_pro_max.HEIC"])
def test_processing_is_deterministic(name: str) -> None:
    """The same bytes give the same output bytes and hash, every time."""
    first, second = process_photo(photo(name)), process_photo(photo(name))
    assert first == second
    assert first.display_bytes == second.display_bytes
    assert re.fullmatch(r"[0-9a-f]{16}", first.phash)


@pytest.mark.parametrize(
    "name", ["gps_DSCN0010.jpg", "mobile_jolla.jpg", "orientation_landscape_6.jpg"]
)
def test_phash_survives_resizing_and_reencoding(name: str) -> None:
    """A resized, re-encoded copy (EXIF kept) hashes within a few bits of the original."""
    original = Image.open(io.BytesIO(photo(name)))
    exif = original.info.get("exif", b"")
    for scale, quality in ((0.5, 60), (0.25, 40)):
        copy = original.resize((int(original.width * scale), int(original.height * scale)))
        data = encoded(copy, "JPEG", quality=quality, exif=exif)
        assert phash_distance(processed(name).phash, process_photo(data).phash) <= 6


def test_phash_of_a_reprocessed_display_copy_is_close() -> None:
    """Re-uploading our own display copy is recognised as the same photo."""
    result = processed("hdr_iphone_hdr_YES.jpg")
    assert phash_distance(result.phash, process_photo(result.display_bytes).phash) <= 4


def test_phash_is_of_the_oriented_image() -> None:
    """All eight orientations of one scene hash alike once oriented."""
    hashes = [processed(f"orientation_landscape_{n}.jpg").phash for n in range(1, 9)]
    assert max(phash_distance(a, b) for a, b in itertools.combinations(hashes, 2)) <= 4


def test_phash_of_different_photos_is_far_apart() -> None:
    """Different scenes differ in many bits."""
    names = [
        name
        for name in SOURCES
        if not name.startswith("orientation_landscape_") or name == "orientation_landscape_1.jpg"
    ]
    assert len(names) > 10
    hashes = {name: processed(name).phash for name in names}
    for a, b in itertools.combinations(names, 2):
        assert phash_distance(hashes[a], hashes[b]) >= 16, (a, b)


def test_phash_distance() -> None:
    """Hamming distance of 16-hex-digit hashes; anything else is a ValueError."""
    assert phash_distance("0000000000000000", "0000000000000000") == 0
    assert phash_distance("0000000000000000", "ffffffffffffffff") == 64
    assert phash_distance("8c97878782733379", "8C9787C682733379") == 2
    for bad in (
        "",
        "abc",
        "0x00000000000000",
        "00000000_0000000",
        "g000000000000000",
        " 000000000000000",
    ):
        with pytest.raises(ValueError):
            phash_distance(bad, "0000000000000000")


# -- sniffing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
        (ftyp(b"heix", b"mif1"), "image/heic"),
        (ftyp(b"hevc", b"msf1"), "image/heic"),
        (ftyp(b"mif1", b"mif1", b"heic"), "image/heic"),
        (ftyp(b"msf1", b"hevc"), "image/heic"),
        (ftyp(b"mif1", b"mif1", b"miaf"), "image/heif"),
        (ftyp(b"avif", b"mif1", b"miaf"), None),
        (ftyp(b"mif1", b"avif"), None),
        (ftyp(b"isom", b"mp41"), None),
        (b"GIF89a\x01\x00\x01\x00", None),
        (b"<html>", None),
        (b"\xff\xd8", None),
        (b"", None),
    ],
)
def test_sniff(data: bytes, expected: str | None) -> None:
    """Types come from the magic bytes alone."""
    assert sniff(data) == expected


def test_sniff_real_photos() -> None:
    """The shared photos sniff as what SOURCES.tsv says they are."""
    for name, row in SOURCES.items():
        assert sniff(photo(name)) == ("image/jpeg" if row["format"] == "JPEG" else "image/heic")


@given(st.binary(max_size=512))
def test_sniff_never_raises(data: bytes) -> None:
    """Arbitrary bytes give a type or None."""
    assert sniff(data) in (
        None,
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "image/heif",
    )


# -- rejections ---------------------------------------------------------------


def assert_rejected(data: bytes, code: str, **limits: int) -> PhotoRejected:
    """Both entry points refuse data with code and a Chinese message."""
    with pytest.raises(PhotoRejected) as upload:
        validate_upload(data, **limits)
    with pytest.raises(PhotoRejected) as task:
        process_photo(data, **limits)
    for error in (upload.value, task.value):
        assert error.code == code
        assert CHINESE.search(error.message), error.message
        assert isinstance(error, ValueError)
    return upload.value


def test_text_file_is_not_an_image() -> None:
    """A text file, whatever its name or declared type."""
    error = assert_rejected("低保申请说明\n".encode() * 50, "not-an-image")
    assert "JPG" in error.message


def test_empty_upload_is_not_an_image() -> None:
    """Zero bytes."""
    assert_rejected(b"", "not-an-image")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (encoded(synthetic((64, 48)), "GIF"), "GIF"),
        (encoded(synthetic((64, 48)), "BMP"), "BMP"),
        (encoded(synthetic((64, 48)), "TIFF"), "TIFF"),
        (ftyp(b"avif", b"mif1", b"miaf"), "AVIF"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
    ],
    ids=["gif", "bmp", "tiff", "avif", "svg"],
)
def test_other_image_formats_are_unsupported(data: bytes, kind: str) -> None:
    """Images we recognise but do not take are named in the message."""
    assert kind in assert_rejected(data, "unsupported-type").message


@pytest.mark.parametrize(
    "name", ["gps_DSCN0010.jpg", "mobile_jolla.jpg", "heic_mobile_iphone_13_pro_max.HEIC"]
)
def test_photo_truncated_at_80_percent(name: str) -> None:
    """An upload cut off at 80 % is refused, cheaply on upload and again in the task."""
    data = photo(name)
    assert_rejected(data[: len(data) * 8 // 10], "truncated")


@pytest.mark.parametrize("format", ["PNG", "WEBP", "JPEG"])
def test_truncated_synthetic_images(format: str) -> None:
    """PNG, WebP and JPEG cut off anywhere after the header are refused."""
    data = encoded(synthetic((640, 480)), format)
    for fraction in (0.3, 0.8, 0.99):
        assert_rejected(data[: int(len(data) * fraction)], "truncated")


def test_cut_inside_the_header_is_truncated() -> None:
    """Right magic bytes, nothing usable after them."""
    assert_rejected(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "truncated")
    assert_rejected(b"\x89PNG\r\n\x1a\n\x00\x00", "truncated")


def test_exif_thumbnail_eoi_does_not_hide_truncation() -> None:
    """A cut photo whose EXIF thumbnail ends in FF D9 is still seen as cut."""
    data = photo("gps_DSCN0010.jpg")  # its APP1 carries a JPEG thumbnail
    assert data.find(b"\xff\xd9") < len(data) // 2
    assert_rejected(data[: len(data) * 8 // 10], "truncated")


def test_bytes_after_eoi_are_accepted() -> None:
    """Data appended after the JPEG (motion photos append a video) is not truncation."""
    data = photo("gps_DSCN0010.jpg") + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40
    assert validate_upload(data).mime == "image/jpeg"
    assert process_photo(data).exif_gps is not None


def test_sixteen_megabytes_is_too_large() -> None:
    """16 MB is over the 15 MB cap before anything else is looked at."""
    data = b"\xff\xd8\xff\xe0" + bytes(16 * 1024 * 1024)
    assert len(data) > MAX_BYTES
    error = assert_rejected(data, "too-large")
    assert "15 MB" in error.message


def test_byte_cap_is_configurable() -> None:
    """max_bytes refuses a photo just over it and takes one at it."""
    data = photo("gps_DSCN0010.jpg")
    assert_rejected(data, "too-large", max_bytes=len(data) - 1)
    assert validate_upload(data, max_bytes=len(data)).size == len(data)


@pytest.mark.parametrize(
    ("width", "height", "code"),
    [
        (30000, 30000, "decompression-bomb"),  # over twice Pillow's own limit
        (10000, 10000, "decompression-bomb"),  # in Pillow's warning band: must not warn
        (8000, 8000, "too-many-pixels"),  # under Pillow's limit, over ours
    ],
)
def test_png_bomb_is_refused_without_decoding(
    width: int, height: int, code: str, no_decoding: None
) -> None:
    """A few-KB PNG declaring a gigantic canvas is refused from its header."""
    data = png_declaring(width, height)
    assert len(data) < 64 * 1024
    assert_rejected(data, code)


def test_pixel_cap_is_configurable() -> None:
    """max_pixels refuses an 8 MP photo when set to 5 MP, naming the size."""
    error = assert_rejected(photo("mobile_jolla.jpg"), "too-many-pixels", max_pixels=5_000_000)
    assert "3264×2448" in error.message


def test_zero_sized_image_is_refused() -> None:
    """A header declaring no pixels is damaged."""
    assert_rejected(png_declaring(0, 10), "truncated")


def test_rejection_pickles() -> None:
    """PhotoRejected survives the task broker's pickling with code and message."""
    error = PhotoRejected("truncated", "照片文件不完整")
    # Bytes this test just produced, not untrusted input.
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301
    assert (copy.code, copy.message, str(copy)) == (error.code, error.message, str(error))


_PREFIXES = [
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\x00\x10\x00\x00WEBPVP8 ",
    ftyp(b"heic", b"mif1"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_PREFIXES), st.binary(max_size=2048))
def test_garbage_after_magic_is_rejected_cleanly(prefix: bytes, tail: bytes) -> None:
    """Random bytes behind real magic raise PhotoRejected, never another error."""
    data = prefix + tail
    for check in (validate_upload, process_photo):
        try:
            check(data)
        except PhotoRejected as error:
            assert error.code in ("truncated", "too-many-pixels", "decompression-bomb")


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=8, max_value=99), st.data())
def test_cut_anywhere_is_rejected_cleanly(percent: int, data: st.DataObject) -> None:
    """A real JPEG or PNG cut at any point raises PhotoRejected("truncated") or is whole."""
    source = data.draw(st.sampled_from(["JPEG", "PNG"]))
    whole = _small_encoded(source)
    cut = whole[: len(whole) * percent // 100]
    with pytest.raises(PhotoRejected) as error:
        process_photo(cut)
    assert error.value.code == "truncated"


@functools.cache
def _small_encoded(format: str) -> bytes:
    return encoded(synthetic((160, 120)), format)


def test_multi_picture_jpeg_uses_its_first_image() -> None:
    """An MPO (phones' depth/HDR JPEGs) processes its primary image; a cut tail is harmless."""
    primary = synthetic((2000, 1500))
    data = encoded(
        primary,
        "MPO",
        save_all=True,
        append_images=[primary.transpose(Image.Transpose.FLIP_LEFT_RIGHT)],
    )
    whole = process_photo(data)
    assert (whole.display_width, whole.display_height) == (1600, 1200)
    expected = primary.resize((1600, 1200), Image.Resampling.LANCZOS)
    assert mean_difference(decoded(whole.display_bytes), expected) < 6
    # Cut inside the second image, the first is complete; cut inside the first, it is not.
    assert process_photo(data[: len(data) * 9 // 10]).display_bytes == whole.display_bytes
    assert_rejected(data[: len(data) // 4], "truncated")


def test_png_exif_after_the_pixels_still_orients() -> None:
    """A PNG whose eXIf chunk follows IDAT is oriented, and its original size agrees."""
    exif = Image.Exif()
    exif[0x0112] = 8
    data = encoded(synthetic((400, 300)), "PNG")
    iend = data.rindex(b"IEND") - 4
    body = exif.tobytes()[6:]  # eXIf holds the TIFF structure without "Exif\0\0"
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + body))
    result = process_photo(data[:iend] + chunk + data[iend:])
    assert (result.display_width, result.display_height) == (300, 400)
    assert (result.original_width, result.original_height) == (300, 400)
