"""Print a run's validation curve from its TensorBoard events: one row per validation.

    python scripts/tb_curve.py outputs/train/runs/<run>
"""

from __future__ import annotations

import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

TAGS = ("val/acc", "val/acc36", "val/cer", "val/loss")


def main(run_dir: str) -> None:
    events = EventAccumulator(str(Path(run_dir) / "tensorboard"))
    events.Reload()
    series = {tag: events.Scalars(tag) for tag in TAGS if tag in events.Tags()["scalars"]}
    start = min(s.wall_time for s in events.Scalars("train/loss"))
    print("| step | minutes | " + " | ".join(series) + " |")
    print("|---" * (len(series) + 2) + "|")
    for row in zip(*series.values(), strict=True):
        minutes = (row[0].wall_time - start) / 60
        values = " | ".join(f"{point.value:.4f}" for point in row)
        print(f"| {row[0].step} | {minutes:.1f} | {values} |")


if __name__ == "__main__":
    main(sys.argv[1])
