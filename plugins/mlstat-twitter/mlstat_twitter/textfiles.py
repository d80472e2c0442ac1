"""Decoding tweet files: the encoding a user sets, a UTF-8 byte-order mark ignored, gzip
decompressed (``.gz``), and errors that name the option that sets the encoding (or the
format) where the file was given.

The option differs by where a file comes from: ``encoding`` in [loader] for twitter.tweets'
own file, ``stream_encoding`` in [loader] for a loader's stream, ``--encoding`` for
``mlstat-twitter-index``. A message that names another one cannot be followed.
"""

from __future__ import annotations

import codecs
import gzip
import zlib
from pathlib import Path
from typing import IO

from mlstat_core.errors import DataError

LOADER_OPTION = "encoding"
STREAM_OPTION = "stream_encoding"
CLI_OPTION = "--encoding"


def python_encoding(encoding: str) -> str:
    """The codec to read with: UTF-8 as ``utf-8-sig``, so that a byte-order mark (which some
    Windows tools write) is not read as part of the first line."""
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


GZIP_ERRORS = (OSError, EOFError, zlib.error)
"""What reading a damaged or cut-short gzip file raises (BadGzipFile is an OSError)."""


def is_gzip(path: Path) -> bool:
    """Whether ``path`` is named as gzip-compressed (``tweets.jsonl.gz``)."""
    return Path(path).suffix.lower() == ".gz"


def open_text(path: Path, encoding: str) -> IO[str]:
    """``path`` opened as text in ``encoding`` (a BOM ignored), decompressed if ``.gz``."""
    if is_gzip(path):
        return gzip.open(path, "rt", encoding=python_encoding(encoding))
    return Path(path).open(encoding=python_encoding(encoding))


def gzip_error(path: Path, exc: Exception) -> DataError:
    """The error for a ``.gz`` file that does not decompress."""
    return DataError(f"{path} is not a readable gzip file ({exc or type(exc).__name__}); "
                     "compress it again with gzip, or give it uncompressed")


def utf16_sign(path: Path) -> str:
    """What betrays UTF-16 text at the start of ``path`` (its byte-order mark, NUL bytes), or
    ``""`` when nothing does; a ``.gz`` file is looked at decompressed."""
    try:
        with (gzip.open(path, "rb") if is_gzip(path) else Path(path).open("rb")) as handle:
            head = handle.read(4096)
    except GZIP_ERRORS:
        return ""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "it starts with a UTF-16 byte-order mark"
    if b"\x00" in head:
        return "it holds NUL bytes, as UTF-16 text does"
    return ""


def on_command_line(option: str | None) -> bool:
    """Whether the file was given on mlstat-twitter-index's command line: ``option``, the
    option that sets its encoding, is then a flag (``--encoding``), and advice names flags."""
    return str(option or "").startswith("--")


def set_encoding(option: str, example: str) -> str:
    """How to set the encoding through ``option``, with ``example`` as the value."""
    if on_command_line(option):
        return f"pass {option} (for example {option} {example})"
    return f"set `{option}` in [loader] (for example {option} = \"{example}\")"


def utf16_advice(path: Path, option: str) -> str:
    """``"; it starts with a UTF-16 byte-order mark: set ..."`` when the file looks like
    UTF-16 text, else ``""``."""
    sign = utf16_sign(path)
    return f"; {sign}: {set_encoding(option, 'utf-16')}" if sign else ""


def decoding_error(path: Path, encoding: str, exc: UnicodeDecodeError, option: str
                   ) -> DataError:
    """The error for a file that is not text in ``encoding``, naming the option to set."""
    from mlstat_core.io import undecodable_where

    return DataError(f"{path} is not valid {encoding} text "
                     f"({undecodable_where(path, encoding, exc)}); save it as UTF-8 or "
                     f"{encoding_advice(path, option, 'cp1252')}")


def encoding_advice(path: Path, option: str, example: str) -> str:
    """How to set the encoding of ``path`` through ``option``: to UTF-16 when the file looks
    like it, else to ``example``."""
    sign = utf16_sign(path)
    return f"{set_encoding(option, 'utf-16')} ({sign})" if sign else \
        set_encoding(option, example)


def format_setting(option: str) -> str:
    """How to set the format where the file was given (``option`` sets its encoding)."""
    if on_command_line(option):
        return "pass --format"
    return "set `stream_format` in [loader]" if option == STREAM_OPTION else \
        "set `format` in [loader]"


def format_value(option: str, value: str) -> str:
    """How to set the format to ``value`` where the file was given: ``pass --format jsonl``,
    ``set `stream_format` in [loader] to "jsonl"``."""
    setting = format_setting(option)
    return f"{setting} {value}" if on_command_line(option) else f'{setting} to "{value}"'
