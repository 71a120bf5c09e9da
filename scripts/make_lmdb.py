"""Same as the `crnn-make-lmdb` console script: python scripts/make_lmdb.py --help."""

from crnn_pl.cli.make_lmdb import main

raise SystemExit(main())
