"""Which characters a piece of user text may hold, by what the text is.

Three kinds of text come in:
- a *name* shown to people and matched by people (stack, layer and app names):
  printable, one line, no invisible characters (zero-width spaces, joiners,
  direction marks, byte-order marks) and no emoji, which look alike or like
  nothing at all, so two names that read the same could differ;
- a *line* (a URL, a revision, a key name, an OS name): one line, no control
  and no invisible characters;
- free *text* (a description, a password, an SSH key): anything but control
  characters other than tab, newline and carriage return (NUL above all: no
  file, tag, environment or argv can carry it).

Pure and light: importable without pydantic, so `stackops solo` may use it.
"""

from __future__ import annotations

import unicodedata

from stackops.errors import InvalidInput

FREE_TEXT_CONTROLS = frozenset("\t\n\r")
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
_VARIATION_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
_EMOJI_BLOCKS = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x1F1E6, 0x1F1FF))


def describe_char(char: str) -> str:
    """`U+200B (ZERO WIDTH SPACE)`: a character named so a reader can find it."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "a control character")
    return f"U+{ord(char):04X} ({name})"


_CONTROL_NAMES = {
    "\x00": "NUL",
    "\t": "TAB",
    "\n": "NEWLINE",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
}


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


def _is_invisible(char: str) -> bool:
    code = ord(char)
    if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
        return True
    if unicodedata.category(char) == "Zs" and char != " ":
        return True  # no-break, en, em, ideographic... spaces: they read as a plain space
    return any(low <= code <= high for low, high in _VARIATION_SELECTORS)


def _is_emoji(char: str) -> bool:
    code = ord(char)
    if code < 0x80:
        return False
    if unicodedata.category(char) in ("So", "Sk"):
        return True
    return any(low <= code <= high for low, high in _EMOJI_BLOCKS)


def first_bad_char(value: str, kind: str) -> tuple[int, str, str] | None:
    """(position, character, why) of the first character `value` may not hold as `kind`
    ('name', 'line' or 'text'); None when it is clean."""
    if value.isascii() and value.isprintable():
        return None  # the common case, decided in C: printable ASCII is clean for every kind
    for index, char in enumerate(value):
        if _is_control(char):
            if kind == "text" and char in FREE_TEXT_CONTROLS:
                continue
            return index, char, "a control character"
        if kind in ("name", "line") and _is_invisible(char):
            return index, char, "an invisible character"
        if kind == "name" and _is_emoji(char):
            return index, char, "an emoji or symbol"
    return None


_WHAT_IS_ALLOWED = {
    "name": "letters, digits, spaces and punctuation on one line",
    "line": "one line of visible characters",
    "text": "text without control characters (tab and newline are fine)",
}


def check_chars(value: str, what: str, kind: str = "line") -> str:
    """`value` unchanged, or InvalidInput naming `what`, the character and where it is."""
    bad = first_bad_char(value, kind)
    if bad is None:
        return value
    index, char, why = bad
    raise InvalidInput(
        f"{what} holds {why}, {describe_char(char)}, at position {index + 1}; "
        f"use {_WHAT_IS_ALLOWED[kind]}"
    )


def check_name(value: str, what: str = "name") -> str:
    """A display name: one printable line, no invisible characters, no emoji."""
    return check_chars(value, what, "name")


def check_line(value: str, what: str) -> str:
    """One line of visible characters (a URL, a revision, an identifier)."""
    return check_chars(value, what, "line")


def check_text(value: str, what: str) -> str:
    """Free text: no control characters but tab, newline and carriage return."""
    return check_chars(value, what, "text")
