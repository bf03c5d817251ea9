"""Benchmark the photo pipeline against a naive Pillow pipeline, on real photographs.

Photos: Debian's lomiri wallpapers (real camera photos, CC-BY/CC-BY-SA), fetched with
`apt-get download` into var/bench on first run. Fifteen are made 12 MP (4000×3000 crops), one
is made 50 MP (8660×5773), all saved as camera-like JPEGs with an EXIF orientation tag.

Last line: ingest: photos=16 per_photo_ms=<median, 12 MP> naive_ratio=<ours/naive> peak_rss_mb=<50 MP>
Targets: naive_ratio <= 0.35, peak_rss_mb <= 250.
"""

import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from projects import imaging  # noqa: E402 - after the path is set

WORK = ROOT / "var" / "bench"
PACKAGES = ["lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04"]
SOURCES = [
    "Dragonfly_by_Bolly.jpg",
    "seeding_by_Clements_Engelhardt.jpg",
    "sunset_by_Tiziano_Consonni.jpg",
    "Bridge_by_Sander_Klootwijk.jpg",
    "Wine_by_Jakkub_Mede.jpg",
    "greentock_by_Peter_Nerlich.jpg",
    "free_by_Peter_Nerlich.jpg",
    "Kleiber_by_Lukas_Baubkus.jpg",
]
LIMITS = {"max_bytes": 200_000_000, "max_pixels": 64_000_000, "min_side": 512}


def fetch_sources() -> list[Path]:
    folder = WORK / "debs"
    folder.mkdir(parents=True, exist_ok=True)
    extracted = WORK / "extracted"
    if not extracted.exists():
        if not list(folder.glob("*.deb")):
            subprocess.run(["apt-get", "download", *PACKAGES], cwd=folder, check=True, capture_output=True)
        for deb in folder.glob("*.deb"):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(extracted)], check=True)
    found = {path.name: path for path in extracted.rglob("*.jpg")}
    sources = [found[name] for name in SOURCES if name in found]
    if len(sources) < 4:
        sys.exit(f"bench: expected the lomiri wallpaper photos in {extracted}, found {sorted(found)}")
    return sources


def camera_jpeg(img: Image.Image, size: tuple[int, int], path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010F] = "BenchCam"
    img.convert("RGB").resize(size, Image.Resampling.LANCZOS).save(path, "JPEG", quality=92, exif=exif)


def make_photos(sources: list[Path]) -> tuple[list[Path], Path]:
    out = WORK / "photos"
    out.mkdir(parents=True, exist_ok=True)
    twelve = []
    for index in range(15):
        path = out / f"12mp-{index:02d}.jpg"
        twelve.append(path)
        if path.exists():
            continue
        with Image.open(sources[index % len(sources)]) as source:
            img = ImageOps.exif_transpose(source).convert("RGB")
            width, height = img.size
            # Different crops of the same photo are different pictures to the pipeline.
            crop = 0.75 + 0.05 * (index // len(sources))
            box_w, box_h = int(width * crop), int(height * crop)
            left = (width - box_w) * (index % 3) // 2
            img = img.crop((left, 0, left + box_w, box_h))
            if index % 2:
                img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            camera_jpeg(img, (4000, 3000), path)
    fifty = out / "50mp.jpg"
    if not fifty.exists():
        with Image.open(sources[-1]) as source:
            camera_jpeg(source, (8660, 5773), fifty)
    return twelve, fifty


def ours(path: Path) -> None:
    with path.open("rb") as fileobj:
        imaging.inspect_upload(fileobj, **LIMITS)
        imaging.render_derivatives(fileobj)


def naive(path: Path) -> None:
    """Open, decode in full, apply EXIF orientation, resize each output with LANCZOS, encode."""
    with Image.open(path) as img:
        img.load()
        full = ImageOps.exif_transpose(img).convert("RGB")
    for long_side, image_format, options in (
        (1536, "JPEG", {"quality": 92, "subsampling": 0}),
        (400, "WEBP", {"quality": 80}),
        (96, "WEBP", {"quality": 60}),
    ):
        scale = long_side / max(full.size)
        resized = full.resize((round(full.width * scale), round(full.height * scale)), Image.Resampling.LANCZOS)
        resized.save(io.BytesIO(), image_format, **options)


def timed(function, paths: list[Path]) -> list[float]:
    durations = []
    for path in paths:
        started = time.perf_counter()
        function(path)
        durations.append((time.perf_counter() - started) * 1000)
    return durations


# VmHWM, not ru_maxrss: a child inherits its parent's ru_maxrss across fork and exec, while
# VmHWM belongs to the new process image alone.
PEAK_RSS_CODE = """
import re, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bench.ingest import ours
ours(Path(sys.argv[2]))
status = Path("/proc/self/status").read_text()
print(int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024)
"""


def peak_rss_mb(path: Path) -> float:
    """Peak resident memory (imports included) of a fresh process running our pipeline on one photo."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_CODE, str(ROOT), str(path)], check=True, capture_output=True, text=True
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    twelve, fifty = make_photos(fetch_sources())
    ours(twelve[0])  # warm-up: imports and first-use costs are not per-photo costs
    naive(twelve[0])
    ours_ms = timed(ours, twelve) + timed(ours, [fifty])
    naive_ms = timed(naive, twelve) + timed(naive, [fifty])
    per_photo = statistics.median(ours_ms[:15])
    ratio = sum(ours_ms) / sum(naive_ms)
    print(f"ours:  median {per_photo:.0f} ms per 12 MP photo, 50 MP photo {ours_ms[-1]:.0f} ms")
    print(f"naive: median {statistics.median(naive_ms[:15]):.0f} ms per 12 MP photo, 50 MP photo {naive_ms[-1]:.0f} ms")
    rss = peak_rss_mb(fifty)
    print(f"ingest: photos={len(ours_ms)} per_photo_ms={per_photo:.0f} naive_ratio={ratio:.2f} peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
