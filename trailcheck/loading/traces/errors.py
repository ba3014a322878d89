"""Errors of the trace readers.

TraceFileError            the file itself cannot be read (missing, a directory, not UTF-8, unreadable)
 +-- UnknownFormatError   the records are in no known format, or not in the one asked for
"""


class TraceFileError(Exception):
    """The file cannot be read at all; the message names the file and the fix."""


class UnknownFormatError(TraceFileError):
    """The format could not be detected, or the file looks like another format than the one asked for."""
