"""mlstat-coding: automatic coding of free text to statistical classifications."""

__version__ = "0.1.0"
