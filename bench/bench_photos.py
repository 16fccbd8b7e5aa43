"""Benchmark the photo pipeline against a plain full decode and the naive Pillow pipeline."""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageOps, features

from storage.photos import process_photo

PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "data" / "photos"
MIN_PIXELS = 2_000_000
DISPLAY_MAX, THUMB_MAX, QUALITY = 1600, 320, 82


def full_decode(data: bytes) -> None:
    """Decode every pixel at full scale, nothing else: the floor a naive pipeline starts from."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def draft_decode(data: bytes) -> None:
    """Decode a JPEG at the DCT scale process_photo uses (a full decode for other formats)."""
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "JPEG":
            width, height = image.size
            scale = DISPLAY_MAX / max(width, height)
            if scale < 1:
                image.draft("RGB", (round(width * scale), round(height * scale)))
        image.load()


def naive_pipeline(data: bytes) -> None:
    """What one writes first: open, exif_transpose, thumbnail(1600), save, thumbnail(320), save."""
    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((DISPLAY_MAX, DISPLAY_MAX))
    image.save(io.BytesIO(), format="JPEG", quality=QUALITY)
    image.thumbnail((THUMB_MAX, THUMB_MAX))
    image.save(io.BytesIO(), format="JPEG", quality=QUALITY)


def pipeline(data: bytes) -> None:
    """storage.photos.process_photo with its defaults."""
    process_photo(data, display_max=DISPLAY_MAX, thumb_max=THUMB_MAX, quality=QUALITY)


def large_photos() -> list[tuple[Path, tuple[int, int]]]:
    """The shared photos of MIN_PIXELS and more, with their stored sizes."""
    found = []
    for path in sorted(PHOTOS.iterdir()):
        try:
            with Image.open(path) as image:
                size = image.size
        except OSError:
            continue  # SOURCES.tsv, LICENSE.md
        if size[0] * size[1] >= MIN_PIXELS:
            found.append((path, size))
    return found


def main() -> None:
    """Print ms per photo (median of --repeat runs) and the ratios to the baselines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if not PHOTOS.is_dir():
        raise SystemExit(f"no photos at {PHOTOS}")

    variants: dict[str, Callable[[bytes], None]] = {
        "process": pipeline,
        "full": full_decode,
        "draft": draft_decode,
        "naive": naive_pipeline,
    }
    print(
        f"Pillow {Image.__version__}, libjpeg-turbo {features.version('libjpeg_turbo')}, "
        f"{os.cpu_count()} CPUs; median of {args.repeat} runs, ms per photo"
    )
    header = (
        f"{'photo':36} {'MP':>5} {'process':>8} {'full':>7} {'draft':>7} {'naive':>7}"
        f" {'proc/full':>9} {'proc/naive':>10}"
    )
    print(header)
    print("-" * len(header))
    ratios_full, ratios_naive = [], []
    for path, (width, height) in large_photos():
        data = path.read_bytes()
        for run in variants.values():
            run(data)  # warm up: plugin imports, lcms transform cache
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.repeat):
            # Interleaved, so drift in machine load hits every variant alike.
            for name, run in variants.items():
                start = time.perf_counter()
                run(data)
                times[name].append((time.perf_counter() - start) * 1000)
        ms = {name: statistics.median(values) for name, values in times.items()}
        ratios_full.append(ms["process"] / ms["full"])
        ratios_naive.append(ms["process"] / ms["naive"])
        print(
            f"{path.name:36} {width * height / 1e6:5.1f} {ms['process']:8.1f} {ms['full']:7.1f}"
            f" {ms['draft']:7.1f} {ms['naive']:7.1f}"
            f" {ratios_full[-1]:9.2f} {ratios_naive[-1]:10.2f}"
        )
    print("-" * len(header))
    print(
        f"{'geometric mean':36} {'':5} {'':8} {'':7} {'':7} {'':7}"
        f" {statistics.geometric_mean(ratios_full):9.2f}"
        f" {statistics.geometric_mean(ratios_naive):10.2f}"
    )
    print("full = Image.open + load(); draft = the reduced-scale decode process_photo starts with")


if __name__ == "__main__":
    main()
