"""Print a run's validation curve from its TensorBoard events; optionally plot it to a PNG.

    python scripts/tb_curve.py outputs/train/runs/<run> [--plot docs/train_curve.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

TAGS = ("val/acc", "val/acc36", "val/cer", "val/loss")


def read_curves(run_dir: str) -> tuple[dict, float]:
    events = EventAccumulator(str(Path(run_dir) / "tensorboard"))
    events.Reload()
    series = {tag: events.Scalars(tag) for tag in (*TAGS, "train/loss") if tag in events.Tags()["scalars"]}
    if not any(tag in series for tag in TAGS):
        sys.exit(f"error: {run_dir}/tensorboard holds no validation scalars ({', '.join(TAGS)})")
    # the first logged point stands for the start of training (train/loss comes every 25 steps)
    start = min(points[0].wall_time for points in series.values())
    return series, start


def print_table(series: dict, start: float) -> None:
    tags = [tag for tag in TAGS if tag in series]
    print("| step | minutes | " + " | ".join(tags) + " |")
    print("|---" * (len(tags) + 2) + "|")
    for row in zip(*(series[tag] for tag in tags), strict=True):
        minutes = (row[0].wall_time - start) / 60
        values = " | ".join(f"{point.value:.4f}" for point in row)
        print(f"| {row[0].step} | {minutes:.1f} | {values} |")


def plot(series: dict, start: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (loss_axis, acc_axis) = plt.subplots(1, 2, figsize=(10, 3.5))
    for tag in ("train/loss", "val/loss"):
        points = series.get(tag, [])     # a run shorter than log_every_n_steps has no train/loss
        loss_axis.plot([(p.wall_time - start) / 60 for p in points], [p.value for p in points], label=tag)
    loss_axis.set_yscale("log")
    for tag in ("val/acc", "val/cer"):
        points = series.get(tag, [])
        acc_axis.plot([(p.wall_time - start) / 60 for p in points], [p.value for p in points], "o-", label=tag)
    for axis in (loss_axis, acc_axis):
        axis.set_xlabel("training minutes")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--plot", help="write the curves to this PNG file")
    args = parser.parse_args()
    series, start = read_curves(args.run_dir)
    print_table(series, start)
    if args.plot:
        plot(series, start, args.plot)


if __name__ == "__main__":
    main()
