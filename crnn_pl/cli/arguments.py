"""Command-line parsing shared by the console scripts: a wrong option is one line naming it
(`error: argument --batch-size: must be at least 1, got 0`), exit status 2 as for any usage
mistake, and every numeric option is range-checked before anything runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def number_in(low: float | None = None, high: float | None = None, kind: type = int) -> Callable[[str], float]:
    """An argparse `type`: `kind` of the text, refused outside low..high (either end may be open)."""
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if value != value or (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {bounds(low, high)}, got {text}")
        return value

    return parse


def bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"from {low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"
