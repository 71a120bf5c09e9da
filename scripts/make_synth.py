"""Same as the `crnn-make-synth` console script: python scripts/make_synth.py --help."""

from crnn_pl.cli.make_synth import main

raise SystemExit(main())
