"""Remake the labelled set's small photo copies and LICENSES.md from their sources (not run by the bench).

The photos in photos/ are committed; this is how they were made, for when an item is added or changed.
Sources: the Debian packages and PyPI wheels named in items.json, extracted into one folder:

    apt-get download lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds \
        plasma-workspace-wallpapers opencv-doc
    for deb in *.deb; do dpkg-deb -x "$deb" SOURCES; done
    pip download --no-deps --only-binary :all: scikit-image==0.26.0 scikit-learn==1.9.1 matplotlib==3.11.2
    for whl in *.whl; do unzip -q -o "$whl" 'skimage/data/*' 'sklearn/datasets/images/*' \
        'matplotlib/mpl-data/sample_data/*' -d SOURCES/whl; done

    python bench/relevance/build_photos.py SOURCES
"""

import json
import sys
from pathlib import Path

from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent
LONGEST_SIDE = 320
QUALITY = 80


def source_file(root: Path, path: str) -> Path:
    # Debian paths are absolute (/usr/share/...); wheel paths are relative to the unzipped wheels.
    return root / path.lstrip("/") if path.startswith("/") else root / "whl" / path


def main(root: Path) -> None:
    items = json.loads((HERE / "items.json").read_text())["items"]
    photos = [item for item in items if item["kind"] == "photo"]
    (HERE / "photos").mkdir(exist_ok=True)
    for item in photos:
        with Image.open(source_file(root, item["source"]["path"])) as img:
            img.draft("RGB", (LONGEST_SIDE * 2, LONGEST_SIDE * 2))
            small = ImageOps.exif_transpose(img).convert("RGB")
        small.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
        small.save(HERE / item["file"], "JPEG", quality=QUALITY, optimize=True)
    lines = [
        "# Photos of the relevance set: sources and licences",
        "",
        f"Each file in `photos/` is a copy of the source reduced to {LONGEST_SIDE} px on its longest side",
        f"(JPEG quality {QUALITY}); nothing else was changed. Debian paths are inside the named package;",
        "wheel paths are inside the named PyPI wheel. The descriptions in items.json are ours.",
        "",
        "| file | package | path | author | licence |",
        "|---|---|---|---|---|",
    ]
    for item in photos:
        source = item["source"]
        lines.append(
            f"| {item['file']} | {source['package']} | {source['path']} | {source['author']} | {source['licence']} |"
        )
    lines += [
        "",
        "Licence texts: CC-BY-4.0 https://creativecommons.org/licenses/by/4.0/, CC-BY-SA-4.0",
        "https://creativecommons.org/licenses/by-sa/4.0/, CC-BY-SA-3.0 https://creativecommons.org/licenses/by-sa/3.0/,",
        "CC-BY-2.0 https://creativecommons.org/licenses/by/2.0/, CC0-1.0",
        "https://creativecommons.org/publicdomain/zero/1.0/, GPL-2+ https://www.gnu.org/licenses/old-licenses/gpl-2.0.html,",
        "Apache-2.0 https://www.apache.org/licenses/LICENSE-2.0, BSD-3-Clause https://opensource.org/license/bsd-3-clause.",
        "The copies under CC-BY-SA and GPL-2+ stay under those licences.",
        "",
    ]
    (HERE / "LICENSES.md").write_text("\n".join(lines))
    total = sum((HERE / item["file"]).stat().st_size for item in photos)
    print(f"{len(photos)} photos, {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
