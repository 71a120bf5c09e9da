"""What a stranger's small file costs to refuse or read: peak memory and time, each case in a fresh
interpreter, beside the same interpreter merely loading `en`. The files are crafted here (and by
tests/test_hostile.py, which imports the crafting functions):

    a 12,000 x 12,000 RGBA PNG of 560 KB, read twice on two decoding threads
    en's safetensors claiming hidden_size=3000, loaded
    en's ONNX with a card asking read_max_width=10^9, reading one 30,000 x 1 crop

    python scripts/bench_untrusted.py                      this checkout
    PYTHONPATH=<a checkout of another commit> python scripts/bench_untrusted.py   that commit's code

Prints a Markdown table (docs/decisions.md keeps the figures).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

from crnn_pl.pretrained import PRETRAINED_DIR

EN_ONNX, EN_WEIGHTS = PRETRAINED_DIR / "en.onnx", PRETRAINED_DIR / "en.safetensors"


def png_declaring(width: int, height: int) -> bytes:
    """A valid RGBA PNG of width x height transparent pixels, compressed to almost nothing."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    compressor, row, parts = zlib.compressobj(9), bytes(1 + 4 * width), []
    for _ in range(height):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def safetensors_with(folder: Path, name: str, change) -> Path:
    """en's weights with its hyper-parameters metadata changed by `change(text) -> text`."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(EN_WEIGHTS), framework="pt") as handle:
        metadata = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    metadata["hyper_parameters"] = change(metadata["hyper_parameters"])
    path = folder / f"{name}.safetensors"
    save_file(tensors, str(path), metadata=metadata)
    return path


def with_hparams(**values):
    return lambda text: json.dumps(json.loads(text) | values)


def onnx_with(folder: Path, name: str, card_changes: dict | None = None, output: str | None = None) -> Path:
    """en.onnx with its model card changed, or its output renamed."""
    import onnx

    model = onnx.load(str(EN_ONNX))
    for prop in model.metadata_props:
        if prop.key == "crnn_pl" and card_changes is not None:
            prop.value = json.dumps(json.loads(prop.value) | card_changes)
    if output is not None:
        old = model.graph.output[0].name
        for node in model.graph.node:
            node.output[:] = [output if o == old else o for o in node.output]
        model.graph.output[0].name = output
    path = folder / f"{name}.onnx"
    onnx.save(model, str(path))
    return path


def measured(code: str, cwd: Path) -> tuple[float, float, str]:
    """(peak resident MB, seconds, last stdout line) of `code` run in a fresh interpreter."""
    probe = ("import resource, sys, time\nstarted = time.perf_counter()\n"
             f"try:\n{''.join('    ' + line + chr(10) for line in code.splitlines())}"
             "except Exception as error:\n    print(f'{type(error).__name__}: {error}')\n"
             "print('took', time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,"
             " file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=600)
    took = result.stderr.rsplit("took ", 1)
    if len(took) < 2:
        return float("nan"), float("nan"), result.stderr.strip().splitlines()[-1][:120]
    seconds, peak = map(float, took[1].split())
    lines = result.stdout.strip().splitlines()
    return peak, seconds, (lines[-1] if lines else "")[:120]


LOAD_EN = "from crnn_pl.runtime.recognizer import Recognizer\nrecognizer = Recognizer('en')"
CASES = {
    "load en (the baseline)": LOAD_EN,
    "read the 560 KB PNG declaring 12,000 x 12,000, twice, 2 threads":
        LOAD_EN + "\nreads = list(recognizer.read_stream(['bomb.png'] * 2, workers=2))\nprint(reads[0].error)",
    "load en.safetensors (the baseline)": "from crnn_pl.model.weights import load_crnn\nload_crnn(sys.argv[0])",
    "load en.safetensors claiming hidden_size=3000":
        "from crnn_pl.model.weights import load_crnn\nload_crnn('wide.safetensors')\nprint('loaded')",
    "read a 30,000 x 1 crop with a card of read_max_width 10^9":
        "import numpy as np\nfrom crnn_pl.runtime.recognizer import Recognizer\n"
        "print(Recognizer('wide.onnx').read([np.tile([0, 255], (1, 15000)).astype(np.uint8)]))",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "bomb.png").write_bytes(png_declaring(12_000, 12_000))
        safetensors_with(folder, "wide", with_hparams(hidden_size=3000))
        onnx_with(folder, "wide", {"read_max_width": 10**9})
        print("| case | peak memory | time | outcome |\n|---|---|---|---|")
        for case, code in CASES.items():
            peak, seconds, outcome = measured(code.replace("sys.argv[0]", repr(str(EN_WEIGHTS))), folder)
            print(f"| {case} | {peak:,.0f} MB | {seconds:.2f} s | {outcome.replace('|', '/')} |")


if __name__ == "__main__":
    main()
