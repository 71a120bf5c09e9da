"""Train a CRNN: `python train.py [group=choice ...] [key=value ...]` (see conf/config.yaml)."""

from crnn_pl.cli.train import main

if __name__ == "__main__":
    main()
