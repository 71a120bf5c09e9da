"""The kind of error a user can fix (a data folder, a label file, a charset file, a model file,
a config value): every entry point prints it as one line, `error: <message>`, and exits 1. Each
message names the file (and line, where there is one) and what to change."""


class UserError(Exception):
    """A mistake in what the user gave us, not a bug: shown as one line, without a traceback."""


class ConfigError(UserError, ValueError):
    """A config value (or a combination of them) that cannot work; the message names the key."""
