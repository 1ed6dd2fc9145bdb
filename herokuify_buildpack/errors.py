"""A build failure that the user can act on: one or two lines, no traceback, no secret."""


class BuildError(Exception):
    """Ends the build; its message is printed as is (after masking secrets)."""
