"""Shared CSV reading for the imports: bytes in, numbered rows or a list of (line, column, message) out."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

MAX_BYTES = 8 * 1024 * 1024
MAX_ROWS = 20_000
MAX_CELL = 1000
MAX_ERRORS = 500  # a hopeless file lists its first errors, not millions


@dataclass(frozen=True)
class RowError:
    """One problem in a file: the line (1 = header), the column name ('' for the whole row), a message."""

    line: int
    column: str
    message: object  # a lazy string, translated when shown


@dataclass
class Table:
    """A parsed file: normalised header names and (line number, {column: value}) rows."""

    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delimiter: str = ","


class CsvInvalid(Exception):
    """The file could not be read; ``errors`` says where and why."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


def normalise_name(name: str) -> str:
    """Return a header name in lookup form: trimmed, lowercase, '_' and '-' as spaces, single-spaced."""
    name = name.replace("\ufeff", "").strip().strip('"').lower()
    for ch in "_-":
        name = name.replace(ch, " ")
    return " ".join(name.split())


def decode(data: bytes) -> str:
    """Return the text of UTF-8 bytes (with or without BOM), or raise CsvInvalid naming the bad line."""
    if not data or not data.strip():
        raise CsvInvalid([RowError(1, "", _l("The file is empty."))])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:200].count(b"\x00") > 0:
        raise CsvInvalid([RowError(1, "", _l(
            "The file is saved as UTF-16, not UTF-8. Open it in your spreadsheet program and save it "
            "again as \"CSV UTF-8\"."))])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise CsvInvalid([RowError(line, "", _l(
            "The file is not UTF-8: line %(line)d has a character that is not valid UTF-8 (byte %(byte)d "
            "of the file). It was probably saved as Latin-1 or Windows-1252. Save it again as \"CSV UTF-8\".",
            line=line, byte=e.start + 1))]) from None
    if "\x00" in text:
        raise CsvInvalid([RowError(text.count("\n", 0, text.index("\x00")) + 1, "",
                                   _l("The file contains NUL characters; it is not a text CSV file."))])
    return text


def detect_delimiter(first_line: str) -> str:
    """Return ';' or ',' (or a tab), whichever the header line uses most."""
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(data: bytes, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES) -> Table:
    """Parse CSV bytes into a Table, or raise CsvInvalid with every problem found."""
    if len(data) > max_bytes:
        raise CsvInvalid([RowError(1, "", _l("The file is too large (at most %(mb)d MB).",
                                               mb=max_bytes // (1024 * 1024) or 1))])
    text = decode(data)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = detect_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    errors: list[RowError] = []
    header: list[str] | None = None
    table = Table(header=[], delimiter=delimiter)
    last = 0
    try:
        for record in reader:
            line = last + 1
            last = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank line
            if header is None:
                header = [normalise_name(c) for c in record]
                _check_header(header, errors)
                table.header = header
                continue
            if len(table.rows) >= max_rows:
                errors.append(RowError(line, "", _l("The file has more than %(n)d rows; split it into "
                                                    "smaller files.", n=max_rows)))
                break
            if len(record) != len(header):
                errors.append(RowError(line, "", _l(
                    "This row has %(found)d fields but the header has %(expected)d. Check for a missing "
                    "or extra separator (%(sep)s) or a quote that is not closed.",
                    found=len(record), expected=len(header), sep=_delimiter_name(delimiter))))
                continue
            row = {}
            for name, cell in zip(header, record, strict=True):
                if len(cell) > MAX_CELL:
                    errors.append(RowError(line, name, _l("The value is too long (at most %(n)d characters).",
                                                          n=MAX_CELL)))
                row[name] = cell.strip()
            table.rows.append((line, row))
            if len(errors) >= MAX_ERRORS:
                break
    except csv.Error:
        errors.append(RowError(last + 1, "", _l(
            "The file is not valid CSV from this line on: a quote (\") is not closed or stands in the "
            "middle of a value.")))
    if header is None:
        raise CsvInvalid([RowError(1, "", _l("The file is empty."))])
    if not table.rows and not errors:
        errors.append(RowError(1, "", _l("The file has a header line but no rows.")))
    if errors:
        raise CsvInvalid(errors)
    return table


def _delimiter_name(delimiter: str) -> str:
    return {";": ";", ",": ",", "\t": "tab"}[delimiter]


def _check_header(header: list[str], errors: list[RowError]) -> None:
    seen: set[str] = set()
    for name in header:
        if not name:
            continue
        if name in seen:
            errors.append(RowError(1, name, _l("The column appears twice in the header.")))
        seen.add(name)


def resolve_columns(header: Iterable[str], spec: Mapping[str, tuple[str, ...]],
                    required: Iterable[str]) -> tuple[dict[str, str], list[RowError]]:
    """Map each wanted field to the file's column (first alias found); list missing required ones."""
    present = set(header)
    found: dict[str, str] = {}
    for key, aliases in spec.items():
        for alias in aliases:
            if normalise_name(alias) in present:
                found[key] = normalise_name(alias)
                break
    errors = [RowError(1, spec[key][0], _l("The column \"%(name)s\" is missing (accepted names: %(names)s).",
                                             name=spec[key][0], names=", ".join(spec[key])))
              for key in required if key not in found]
    return found, errors


# --- writing: exports that no spreadsheet runs as formulas -------------------------------------------
# OWASP "CSV injection": every field quoted, and a ' before any text a spreadsheet could start a
# formula with (= + - @ tab CR). Quoting is not enough on its own: a program that splits on ';'
# (LibreOffice and Excel with Swedish settings) or ',' ignores quotes that do not open a field, so
# "Eva;=1+1;" would give a cell "=1+1". A ' is therefore also put after every separator or quote
# (or tab, CR, LF) inside a value that is followed (after any spaces) by one of those characters.

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EMBEDDED = re.compile(r"""(?:(?<=^)|(?<=[,;\t"\r\n]))(?=[ \u00a0]*[=+\-@\t\r])""")


def safe_cell(value) -> str:
    """Return a CSV cell that no spreadsheet evaluates, whichever separator it splits on."""
    text = "" if value is None else str(value)
    return _EMBEDDED.sub("'", text)

