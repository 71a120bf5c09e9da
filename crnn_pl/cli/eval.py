"""`crnn-eval`: score a model on any dataset config's split, read through the one read path.

    crnn-eval model_path=outputs/train/runs/<run>/export/model.onnx
    crnn-eval model_path=<ckpt> dataset=icdar15 dataset.test_dir=data/icdar15/ch4_test_word_images_gt

The split's images and labels (as written: every crop whose label holds a letter or digit, whatever
the model's charset) come from the dataset config; each image is read by `Recognizer`
exactly as crnn-predict and `read()` read it (a wide crop at its natural width where the model's
card says so, a blank crop as nothing), and scored by crnn_pl.core.metrics. Prints exact word
accuracy, acc36, CER, 1-NED and images/s; writes every read to predictions.csv in the run folder.
"""

from __future__ import annotations

import csv
import logging
import time
from pathlib import Path

import hydra
from omegaconf import DictConfig

from crnn_pl.cli.errors import exit_on_user_errors, refuse_renamed
from crnn_pl.cli.train import CONFIG_DIR, build_datamodule
from crnn_pl.core.ctc import requested_decoder
from crnn_pl.core.metrics import WordScore, summarize
from crnn_pl.data.labels import DataError
from crnn_pl.runtime.recognizer import Recognizer

log = logging.getLogger(__name__)


def evaluate(cfg: DictConfig) -> dict[str, float]:
    refuse_renamed(cfg, {"export_format": "format"})
    decoder = requested_decoder(cfg.decoder, cfg.lexicon, cfg.hot_words, cfg.lexicon_only)
    recognizer = Recognizer(cfg.model_path, cfg.format, cfg.device, cfg.orientation, decoder=decoder)
    card = recognizer.card
    image = dict(height=card.height, width=card.width, channels=card.channels, mean=card.mean, std=card.std)
    datamodule = build_datamodule(cfg, recognizer.charset, image, batch_size=cfg.batch_size, num_workers=0,
                                  labels_as_written=True)
    datamodule.setup("validate" if cfg.split == "val" else "test")
    dataset = datamodule.datasets[cfg.split]
    samples = [dataset.raw(key) for key in range(len(dataset))]
    present = [s for s in samples if s.image is not None]
    rows, scores, dropped = [], [], len(samples) - len(present)
    started = time.perf_counter()
    for sample, read in zip(present, recognizer.read_stream((s.image for s in present), cfg.batch_size), strict=True):
        if read.error:
            dropped += 1
            log.warning("skipping %s", read.error)
            continue
        score = WordScore.of(read.text, sample.label)
        scores.append(score)
        rows.append((sample.name, sample.label, read.text, f"{read.confidence:.4f}", int(score.exact),
                     int(score.acc36), f"{score.ned:.4f}"))
    seconds = time.perf_counter() - started
    if not rows:
        raise DataError(f"the {cfg.split} split of dataset {cfg.dataset._target_} holds no readable image")
    results = summarize(scores) | {"dropped": dropped, "images_per_second": len(rows) / seconds}
    output = Path(hydra.core.hydra_config.HydraConfig.get().runtime.output_dir) / "predictions.csv"
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "label", "prediction", "confidence", "exact", "acc36", "one_minus_ned"])
        writer.writerows(rows)
    print(f"model      {cfg.model_path} ({recognizer.format}, {cfg.device})")
    print(f"decoder    {recognizer.decoder_in_use().describe()}")
    print(f"dataset    {datamodule.name} {cfg.split}: {len(rows)} images"
          + (f", {dropped} unreadable skipped" if dropped else ""))
    print(f"exact      {results['exact']:.4f}\nacc36      {results['acc36']:.4f}\n"
          f"CER        {results['cer']:.4f}\n1-NED      {results['ned']:.4f}\n"
          f"images/s   {results['images_per_second']:.1f} (end to end from the dataset, batch {cfg.batch_size})")
    print(f"predictions: {output}")
    return results


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="eval")
def main(cfg: DictConfig) -> float:
    with exit_on_user_errors():
        return evaluate(cfg)["exact"]


if __name__ == "__main__":
    main()
