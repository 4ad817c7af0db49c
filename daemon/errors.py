"""The one exception type the CLI turns into a one-line message instead of a traceback."""


class UserError(Exception):
    """A mistake in the user's input (config, file, argument): report it in one line."""
