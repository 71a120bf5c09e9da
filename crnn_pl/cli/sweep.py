"""After a sweep (`python train.py -m ...`): one table of every run's overrides and results.

A Hydra callback (conf/hydra/default.yaml): each run writes metrics.json into its folder; when
the multirun ends this collects them into <sweep dir>/summary.csv and prints them, best first.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
COLUMNS = ("best/val_acc", "val/acc", "val/cer", "val/loss")


def collect(sweep_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for metrics_file in sorted(sweep_dir.glob(f"*/{METRICS_FILE}"), key=lambda p: int(p.parent.name)
                               if p.parent.name.isdigit() else 0):
        record = json.loads(metrics_file.read_text(encoding="utf-8"))
        row = {"run": metrics_file.parent.name, "overrides": " ".join(record.get("overrides", []))}
        row.update({column: record["metrics"].get(column) for column in COLUMNS})
        rows.append(row)
    return rows


def summarise(sweep_dir: Path) -> list[dict[str, Any]]:
    rows = collect(sweep_dir)
    if not rows:
        return rows
    rows.sort(key=lambda r: -(r["best/val_acc"] if r["best/val_acc"] is not None else r["val/acc"] or -1))
    with open(sweep_dir / "summary.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["run", "overrides", *COLUMNS])
        writer.writeheader()
        writer.writerows(rows)
    print(f"\nsweep summary ({len(rows)} runs, best first): {sweep_dir / 'summary.csv'}")
    print("| run | overrides | best val/acc | val/acc | val/cer |")
    print("|---|---|---|---|---|")
    for row in rows:
        cells = [f"{row[c]:.4f}" if isinstance(row[c], float) else "-" for c in COLUMNS[:3]]
        print(f"| {row['run']} | {row['overrides']} | {' | '.join(cells)} |")
    return rows


class SweepSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        summarise(Path(config.hydra.sweep.dir))
