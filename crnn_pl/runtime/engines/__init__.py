"""Engines: one per kind of model file, behind `crnn_pl.runtime.engines.base.Engine`."""
