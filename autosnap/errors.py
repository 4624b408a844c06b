"""The one base class of bad-input errors: the CLI prints them without a traceback and
exits 2; anything else is a bug and keeps its traceback."""


class InputError(ValueError):
    """Bad input from the user: names the file, field or symbol and what was expected."""
