"""`python -m crnn_pl.predict ...`: the same as the `crnn-predict` console script."""

import sys

from crnn_pl.cli.predict import main

if __name__ == "__main__":
    sys.exit(main())
