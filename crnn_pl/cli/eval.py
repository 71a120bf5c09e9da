"""`crnn-eval`: score a checkpoint or any exported model on any dataset config's split.

    crnn-eval model_path=outputs/train/runs/<run>/export/model.onnx
    crnn-eval model_path=<ckpt> dataset=icdar15 dataset.test_dir=data/icdar15/ch4_test_word_images_gt

Prints word accuracy, acc36, CER, 1-NED and images/s; writes every prediction to
predictions.csv in the run folder for error analysis.
"""

from __future__ import annotations

import csv
import logging
import sys
import time
from pathlib import Path

import hydra
from omegaconf import DictConfig

from crnn_pl.cli.train import CONFIG_DIR, build_datamodule
from crnn_pl.data.labels import DataError
from crnn_pl.export.base import ExportError
from crnn_pl.metrics import WordMetrics, one_minus_ned
from crnn_pl.recognizer import Recognizer

log = logging.getLogger(__name__)


def evaluate(cfg: DictConfig) -> dict[str, float]:
    recognizer = Recognizer(cfg.model_path, cfg.export_format, cfg.device)
    card = recognizer.card
    image = dict(height=card.height, width=card.width, channels=card.channels, mean=card.mean, std=card.std)
    datamodule = build_datamodule(cfg, recognizer.charset, image, batch_size=cfg.batch_size,
                                  num_workers=cfg.num_workers)
    datamodule.setup("validate" if cfg.split == "val" else "test")
    loader = datamodule.val_dataloader() if cfg.split == "val" else datamodule.test_dataloader()
    metrics, rows, model_seconds, dropped = WordMetrics(), [], 0.0, 0
    for batch in loader:
        dropped += batch.dropped
        if not batch.labels:
            continue
        started = time.perf_counter()
        results = recognizer.read_tensors(batch.images)
        model_seconds += time.perf_counter() - started
        predictions = [text for text, _ in results]
        metrics.update(predictions, batch.labels)
        rows += [(label, text, f"{confidence:.4f}", int(text == label), f"{one_minus_ned(text, label):.4f}")
                 for label, (text, confidence) in zip(batch.labels, results, strict=True)]
    if not rows:
        raise DataError(f"the {cfg.split} split of dataset {cfg.dataset._target_} is empty")
    scores = metrics.compute() | {"images": len(rows), "dropped": dropped,
                                  "images_per_second": len(rows) / model_seconds}
    output = Path(hydra.core.hydra_config.HydraConfig.get().runtime.output_dir) / "predictions.csv"
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "prediction", "confidence", "correct", "one_minus_ned"])
        writer.writerows(rows)
    print(f"model      {cfg.model_path} ({recognizer.format}, {cfg.device})")
    print(f"dataset    {datamodule.name} {cfg.split}: {len(rows)} images"
          + (f", {dropped} undecodable dropped" if dropped else ""))
    print(f"accuracy   {scores['acc']:.4f}\nacc36      {scores['acc36']:.4f}\n"
          f"CER        {scores['cer']:.4f}\n1-NED      {scores['ned']:.4f}\n"
          f"images/s   {scores['images_per_second']:.1f} (model only, batch {cfg.batch_size})")
    print(f"predictions: {output}")
    return scores


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="eval")
def main(cfg: DictConfig) -> float:
    try:
        return evaluate(cfg)["acc"]
    except (ExportError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
