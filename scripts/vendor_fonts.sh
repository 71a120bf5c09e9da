#!/usr/bin/env bash
# Re-create crnn_pl/data/synth/font_files from the @fontsource npm packages (needs npm and network;
# training never runs this). Per family: the Latin subset's 400, 700 and 400-italic faces (else
# other weights), as WOFF, which FreeType and fontTools read without brotli, plus its LICENSE.
# Only OFL-1.1 and Apache-2.0 families are kept.
set -euo pipefail
target="$(cd "$(dirname "$0")/.." && pwd)/crnn_pl/data/synth/font_files"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
xargs -P 8 -I{} npm pack "@fontsource/{}" --silent < "$target/families.txt" >/dev/null
for archive in *.tgz; do
  mkdir -p "${archive%.tgz}" && tar xzf "$archive" -C "${archive%.tgz}"
done
python - "$target" <<'PY'
import glob, json, shutil, sys
from pathlib import Path
target = Path(sys.argv[1])
for package in sorted(glob.glob("*/package")):
    meta = json.load(open(f"{package}/package.json"))
    if meta.get("license") not in ("OFL-1.1", "Apache-2.0"):
        continue
    family = meta["name"].split("/")[1]
    files = Path(package, "files")
    styles = ["400-normal", "700-normal", "400-italic", "300-normal", "900-normal", "500-normal",
              "600-normal", "800-normal"]
    faces = [files / f"{family}-latin-{s}.woff" for s in styles if (files / f"{family}-latin-{s}.woff").exists()]
    out = target / family
    out.mkdir(exist_ok=True)
    for face in faces[:3]:
        shutil.copy(face, out / face.name)
    shutil.copy(Path(package, "LICENSE"), out / "LICENSE")
PY
