"""Metaphone (Lawrence Philips, 1990) in pure Python, giving exactly what ``jellyfish.metaphone``
(jellyfish 1.x) gives, so the matching keys the device and the server compute stay the keys
already stored (tests/test_metaphone.py holds it equal to jellyfish over every synthetic-pool
name, the nickname tables and generated strings; jellyfish is only that test's oracle).

Pure Python because the device has no compiled jellyfish (it is not on Flet's mobile index).
Codes are upper case; "0" stands for "th". jellyfish's details kept on purpose: the input is
upper-cased then NFKD-decomposed (marks are then ignored like any other non-letter), a space
between words is kept once, and doubled letters other than C count once."""

from __future__ import annotations

import unicodedata

_VOWELS = frozenset("AEIOU")
_FRONT = frozenset("IEY")  # the letters that soften C and G
_SILENT_FIRST = ("KN", "GN", "PN", "WR", "AE")
_END = ""  # what "the letter after" is past the end of the word


def metaphone(text: str) -> str:
    upper = text.upper()
    letters = unicodedata.normalize("NFKD", upper)
    if upper.startswith(_SILENT_FIRST):
        letters = letters[1:]
    out: list[str] = []
    i, n = 0, len(letters)
    while i < n:
        c = letters[i]
        after = letters[i + 1] if i + 1 < n else _END
        after2 = letters[i + 2] if i + 2 < n else _END
        before = letters[i - 1] if i > 0 else _END
        if c == after and c != "C":
            i += 1  # a doubled letter counts once (the second one is read)
            continue
        code, skip = _code(c, before, after, after2, first=i == 0)
        if c == " ":
            if out and out[-1] != " ":
                out.append(" ")
        elif code:
            out.append(code)
        i += 1 + skip
    return "".join(out)


def _code(c: str, before: str, after: str, after2: str, *, first: bool) -> tuple[str, int]:
    """The code of letter ``c`` and how many following letters it consumes."""
    if c in _VOWELS:
        return (c if first or before == " " else ""), 0
    if c in "FJLMNR":
        return c, 0
    if c == "B":
        silent = not first and before == "M" and after == _END  # "-mb" at the end: lamb
        return ("" if silent else "B"), 0
    if c == "C":
        if after == "H" or (after == "I" and after2 == "A"):
            return "X", 1
        if after in _FRONT:
            return "S", 1
        return "K", 0
    if c == "D":
        if after == "G" and after2 in _FRONT:
            return "J", 2
        return "T", 0
    if c == "G":
        if after in _FRONT:
            return "J", 0
        if (after == "H" and after2 not in _VOWELS) or (after == "N" and after2 == _END):
            return "", 1  # silent: "gh" before a consonant or at the end (hugh), "-gn" (sign)
        return "K", 0
    if c == "H":
        return ("H" if first or after in _VOWELS or before not in _VOWELS else ""), 0
    if c == "K":
        return ("K" if first or before != "C" else ""), 0
    if c == "P":
        return ("F", 1) if after == "H" else ("P", 0)
    if c == "Q":
        return "K", 0
    if c == "S":
        if after == "H":
            return "X", 1
        if after == "I" and after2 in ("O", "A"):
            return "X", 2
        return "S", 0
    if c == "T":
        if after == "I" and after2 in ("O", "A"):
            return "X", 0
        if after == "H":
            return "0", 1
        return ("" if after == "C" and after2 == "H" else "T"), 0
    if c == "V":
        return "F", 0
    if c == "W":
        if first and after == "H":
            return "W", 1
        return ("W" if after in _VOWELS else ""), 0
    if c == "X":
        if not first:
            return "KS", 0
        return ("X" if after == "H" or (after == "I" and after2 in ("O", "A")) else "S"), 0
    if c == "Y":
        return ("Y" if after in _VOWELS else ""), 0
    if c == "Z":
        return "S", 0
    return "", 0
