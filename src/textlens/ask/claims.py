"""Numbers in an answer, checked one by one: a number the model writes must stand in a passage it was given.

A sentence such as "8,848.86 meters (28,251 feet) [1]" makes two claims. Each number is read with its unit
(separators and unit names normalised: ``8,848.86 metres`` is 8848.86 m) and looked up among the numbers of the
cited passage; a number the model rounded (8,849 m) counts when the passage's number rounds to it. A number that is
no passage's, but the model's own conversion of a number the passages hold (8,848.86 m as 29,032 ft), is marked
``converted``. Anything else is ``unsupported``, and :func:`textlens.ask.steps.check_support` drops it when it is
an aside in parentheses, or marks it.

Examples:
    >>> [(q.value, q.unit) for q in quantities("8,848.86 meters (28,251 feet) in 1953")]
    [(8848.86, 'm'), (28251.0, 'ft'), (1953.0, '')]
    >>> converted(quantities("29,032 ft")[0], quantities("8,848.86 m"))
    Quantity(text='8,848.86 m', value=8848.86, unit='m', decimals=2, start=0, end=10)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_UNIT_NAMES = {
    "m": ("m", "meter", "meters", "metre", "metres"),
    "km": ("km", "kilometer", "kilometers", "kilometre", "kilometres"),
    "cm": ("cm", "centimeter", "centimeters", "centimetre", "centimetres"),
    "mm": ("mm", "millimeter", "millimeters", "millimetre", "millimetres"),
    "ft": ("ft", "foot", "feet"),
    "mi": ("mi", "mile", "miles"),
    "inch": ("inch", "inches"),
    "kg": ("kg", "kilogram", "kilograms", "kilogramme", "kilogrammes"),
    "g": ("g", "gram", "grams"),
    "lb": ("lb", "lbs", "pound", "pounds"),
    "t": ("tonne", "tonnes", "ton", "tons"),
    "°C": ("°c", "℃", "degrees celsius", "celsius"),
    "°F": ("°f", "℉", "degrees fahrenheit", "fahrenheit"),
    "%": ("%", "percent", "per cent"),
    "km2": ("km2", "km²", "square kilometres", "square kilometers"),
    "sqmi": ("sq mi", "square miles"),
}
UNITS = {name: unit for unit, names in _UNIT_NAMES.items() for name in names}
UNIT_WORDS = frozenset(w for name in UNITS for w in name.split())
# between units that measure the same thing: how many of the second one make one of the first
_FACTORS = {
    ("m", "ft"): 3.28084,
    ("km", "mi"): 0.621371,
    ("cm", "inch"): 0.393701,
    ("mm", "inch"): 0.0393701,
    ("kg", "lb"): 2.20462,
    ("t", "lb"): 2204.62,
    ("km2", "sqmi"): 0.386102,
    ("km", "m"): 1000.0,
    ("m", "cm"): 100.0,
    ("mi", "ft"): 5280.0,
}
_NUMBER = re.compile(r"(?<![\w.,])(?<![^\W\d_]-)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\d,]*\w)")
_UNIT_AFTER = re.compile(
    r"\s?(" + "|".join(sorted((re.escape(n) for n in UNITS), key=len, reverse=True)) + r")(?![^\W\d_])", re.I
)
CONVERTED_WITHIN = 0.01  # a conversion the model made may be off by rounding: 1%


@dataclass(frozen=True)
class Quantity:
    """A number as written, with its unit (``""`` when it has none) and where it stands in its text."""

    text: str
    value: float
    unit: str
    decimals: int
    start: int
    end: int


def quantities(text: str) -> list[Quantity]:
    """The numbers of ``text``, each with the unit written after it."""
    out = []
    for m in _NUMBER.finditer(text):
        whole, fraction = m.group(1), m.group(2) or ""
        end, unit = m.end(), ""
        after = _UNIT_AFTER.match(text, m.end())
        if after:
            unit, end = UNITS[after.group(1).lower()], after.end()
        value = float(whole.replace(",", "") + ("." + fraction if fraction else ""))
        out.append(Quantity(text[m.start() : end], value, unit, len(fraction), m.start(), end))
    return out


def same(claim: Quantity, found: Quantity) -> bool:
    """Whether ``found`` (in a passage) is the number ``claim`` says: the same value, or one that rounds to it at
    the claim's precision, in the same unit (a passage's number without a unit matches any)."""
    if claim.unit and found.unit and claim.unit != found.unit:
        return False
    return abs(round(found.value, claim.decimals) - claim.value) < 10 ** -(claim.decimals + 3)


def _factor(source: str, target: str) -> float | None:
    if (source, target) in _FACTORS:
        return _FACTORS[(source, target)]
    if (target, source) in _FACTORS:
        return 1 / _FACTORS[(target, source)]
    return None


def converted(claim: Quantity, known: Iterable[Quantity]) -> Quantity | None:
    """The quantity among ``known`` that ``claim`` converts to another unit (within rounding), if any."""
    for q in known:
        if not claim.unit or not q.unit or q.unit == claim.unit:
            continue
        if {claim.unit, q.unit} == {"°C", "°F"}:
            expected = q.value * 9 / 5 + 32 if claim.unit == "°F" else (q.value - 32) * 5 / 9
        elif (factor := _factor(q.unit, claim.unit)) is not None:
            expected = q.value * factor
        else:
            continue
        if expected and abs(claim.value - expected) <= CONVERTED_WITHIN * abs(expected):
            return q
    return None
