"""String normalisation of answers and exact parsing of plain numbers."""

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

_REPLACEMENTS = [
    (r"(?<=\d),\\!\s*(?=\d{3}(?!\d))", ","),  # 16,\!386: a thousands comma with a thin space
    (r"(?<=[\d}%])\s*(?:percent(?:age)?|pct)\b", "%"),
    (r"\\left\b|\\right\b|\\displaystyle|\\bigl|\\bigr|\\Bigl|\\Bigr|\\big|\\Big", ""),
    (r"\\[dt]frac", r"\\frac"),
    (r"\\dbinom|\\tbinom", r"\\binom"),
    (r"\\geqslant|\\ge(?![a-zA-Z])", r"\\geq"),
    (r"\\leqslant|\\le(?![a-zA-Z])", r"\\leq"),
    (r"\\neq|\\ne(?![a-zA-Z])", r"\\neq"),
    (r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree", ""),
    (r"\\\$|\$", ""),
    (r"\\%", "%"),
    (r"(?<!\\)\\[!,;:> ]|~|\\quad|\\qquad", " "),
    # a list conjunction ("2, 3, and 5", "2 \\text{ or } 3") separates items
    (r"(?:\s*,)?\s*(?:\\text\s*\{\s*(?:and|or)\s*\}|\b(?:and|or)\b)\s*", ", "),
    (r"\\sqrt\s*(\[[^\]]*\])?\s*(\d+|[a-zA-Z])", r"\\sqrt\1{\2}"),  # \sqrt[3]2 -> \sqrt[3]{2}
    (r"(?<!\\)\\\s*$", ""),  # a stray trailing backslash
]
_REPLACEMENTS = [(re.compile(pat), rep) for pat, rep in _REPLACEMENTS]
_TEXT_CMD = r"\\(?:text|textbf|textit|mbox|mathrm|mathbf|operatorname)\s*"
_TRAILING_UNIT = re.compile(_TEXT_CMD + r"\{[^{}]*\}\s*(?:\^\{?\d\}?)?$")
_TEXT_WRAPPER = re.compile(_TEXT_CMD + r"\{([^{}]*)\}")
# A number followed by words (a unit, possibly squared: "10 cm^2", or glued on when 3+ letters long:
# "10weeks"), but not by a math name ("2pi", "3 sqrt") or a product of variables ("2ab").
MATH_WORDS = r"pi|sqrt|sin|cos|tan|cot|sec|csc|log|ln|exp|infty|frac|cdot|times|mod|deg"
_UNIT_WORDS = re.compile(
    rf"^([-+]?[\d.,]+%?)(?!\s*(?:{MATH_WORDS})\b)(?:\s+[a-zA-Z]{{2,}}|[a-zA-Z]{{3,}})(?:\^\{{?\d\}}?)?(?:\s+[a-zA-Z]+)*$"
)
# A clock time, 12-hour with a.m./p.m. (possibly in \text{}) or 24-hour: written as H:MM on 24 hours.
_TIME = re.compile(
    r"^(\d{1,2}):(\d{2})\s*(?:\\text\s*\{\s*)?(?:([AaPp])\.?\s*[Mm]\.?)?\s*\}?$"
)
# A degree mark after a number inside a trigonometric function is pi/180, not a unit to drop.
_TRIG = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)\b")
_DEGREES = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°)")
_ASSIGNMENT = re.compile(
    r"^\s*(?P<name>[a-zA-Z](?:_\{?\w+\}?)?|\\[a-zA-Z]+|[a-zA-Z]\s*\([a-z]\))\s*=\s*(?![=<>])(?P<value>[^=]+)$"
)


def _strip_outer_brackets(s: str) -> str:
    """Drop braces around the whole answer, and parentheses around a whole answer that is not a tuple (brackets
    matched in one pass: linear in the answer, however deep)."""
    closing, depth_with_comma, depth, open_brackets = {}, set(), 0, []
    for i, ch in enumerate(s):
        if ch in "([{":
            open_brackets.append(i)
        elif ch in ")]}" and open_brackets:
            closing[open_brackets.pop()] = i
        elif ch == ",":
            depth_with_comma.add(len(open_brackets))
    lo, hi = 0, len(s) - 1
    while hi > lo and s[lo] + s[hi] in ("{}", "()") and closing.get(lo) == hi:
        depth += 1
        if s[lo] == "(" and depth in depth_with_comma:  # a tuple: a comma right inside these parentheses
            break
        lo, hi = lo + 1, hi - 1
        while lo <= hi and s[lo].isspace():
            lo += 1
        while hi >= lo and s[hi].isspace():
            hi -= 1
    return s[lo:hi + 1]


# A mixed number in plain text: "4 4/9" (the fraction proper), not "11 7/6" or "2 3" across a line break.
_MIXED = re.compile(r"(?<![\d.,/])(\d+)[ \t]+(\d+)\s*/\s*(\d+)(?![\d./])")


def _mixed(match: re.Match) -> str:
    whole, numerator, denominator = (int(g) for g in match.groups())
    if numerator >= denominator or max(len(g) for g in match.groups()) > 9:
        return match.group()
    return f"\\frac{{{whole * denominator + numerator}}}{{{denominator}}}"


def _clock(match: re.Match) -> str:
    hours, minutes, half = int(match.group(1)), match.group(2), (match.group(3) or "").lower()
    if half:
        hours = hours % 12 + (12 if half == "p" else 0)
    return f"{hours}:{minutes}"


# Unicode mathematics written as LaTeX (only answers with a non-ASCII character are looked at).
_UNICODE_SYMBOLS = str.maketrans({
    "π": "\\pi ", "×": "\\times ", "÷": "\\div ", "·": "\\cdot ", "⋅": "\\cdot ", "−": "-", "–": "-",
    "≤": "\\leq ", "≥": "\\geq ", "≠": "\\neq ", "∞": "\\infty ", "∪": "\\cup ", "∩": "\\cap ",
    "√": "\\sqrt", "∛": "\\sqrt[3]", "∜": "\\sqrt[4]",
})
_SUPERSCRIPT = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻]+")
_SUBSCRIPT = re.compile("[₀₁₂₃₄₅₆₇₈₉]+")
_SCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻₀₁₂₃₄₅₆₇₈₉", "0123456789+-0123456789")
_ROOT_OF_BRACKETS = re.compile(r"([√∛∜])\s*\(([^()]*)\)")  # √(x+1): the bracket is the radicand
_VULGAR_FRACTION = re.compile(r"(?<!\d)(\d*)\s*([½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅐⅛⅜⅝⅞⅑⅒])")  # ½, a mixed 3½


def _vulgar_fraction(match: re.Match) -> str:
    value = Fraction(unicodedata.numeric(match.group(2))).limit_denominator(10) + int(match.group(1) or 0)
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def _unicode_as_latex(s: str) -> str:
    """√3, ∛2, ½, x², a₁, ≤, ≥, π, ×, ÷, − written as LaTeX (√3 -> \\sqrt3, x² -> x^{2})."""
    s = _ROOT_OF_BRACKETS.sub(r"\1{\2}", s)
    s = _VULGAR_FRACTION.sub(_vulgar_fraction, s)
    s = _SUPERSCRIPT.sub(lambda m: "^{" + m.group().translate(_SCRIPT_DIGITS) + "}", s)
    s = _SUBSCRIPT.sub(lambda m: "_{" + m.group().translate(_SCRIPT_DIGITS) + "}", s)
    return s.translate(_UNICODE_SYMBOLS)


# Longer answers are not normalised (``clean`` returns them as written) and are graded by exact equality only
# (grader.fast_equal): the regular expressions below are linear on what a model plausibly writes, not on every
# adversarial string, and this bound keeps their worst case to milliseconds.
MAX_ANSWER_CHARS = 4000


@lru_cache(maxsize=1 << 16)
def clean(answer: str, keep_equation: bool = False) -> str:
    """Remove presentation-only LaTeX (``\\left``, ``\\dfrac``, degrees, units, ``x =``) from an answer;
    ``keep_equation`` keeps a leading ``x =``. Runs of whitespace become one space. An answer longer than
    MAX_ANSWER_CHARS is returned stripped, unchanged otherwise."""
    if len(answer) > MAX_ANSWER_CHARS:
        return answer.strip()
    s = " ".join(answer.split())  # one space per run: no rule below scans a long run from each of its positions
    if not s.isascii():
        s = " ".join(_unicode_as_latex(s).split())
    s = _TIME.sub(_clock, s)
    s = _MIXED.sub(_mixed, s)
    if _TRIG.search(s):
        s = _DEGREES.sub(r"(\1\\pi/180)", s)
    for pattern, replacement in _REPLACEMENTS:
        s = pattern.sub(replacement, s)
    s = s.strip().rstrip(".").strip()
    while _TRAILING_UNIT.search(s) and _TRAILING_UNIT.sub("", s).strip():
        s = _TRAILING_UNIT.sub("", s).strip()
    s = _TEXT_WRAPPER.sub(r"\1", s).strip()
    s = _UNIT_WORDS.sub(r"\1", s)
    assignment = None if keep_equation else _ASSIGNMENT.match(s)
    if assignment:
        s = assignment.group("value").strip()
    return _strip_outer_brackets(s.rstrip(".").strip())


def assigned_name(answer: str) -> str | None:
    """The name a leading ``x =`` of ``answer`` assigns to (``clean`` drops it), without spaces and braces;
    None when there is none."""
    assignment = _ASSIGNMENT.match(clean(answer, keep_equation=True))
    return re.sub(r"[\s{}]", "", assignment.group("name")) if assignment else None


_SPACE = re.compile(r"\s+")


def squeeze(cleaned: str) -> str:
    """A cleaned answer with all whitespace removed: the key for exact string comparison."""
    return _SPACE.sub("", cleaned)


def compact(answer: str) -> str:
    """``clean`` then ``squeeze``."""
    return squeeze(clean(answer))


_OPTION = re.compile(r"\(?([A-E])\)?|\(([A-E])\)\s.*|([A-E])[.:]\s.*")


def option_letter(cleaned: str) -> str | None:
    """The letter of a multiple-choice answer ("C", "(C)", "(C) Alina", "C. 12"), else None."""
    m = _OPTION.fullmatch(cleaned.strip())
    return next(g for g in m.groups() if g) if m else None


def split_top_level(s: str, sep: str = ",") -> list[str]:
    """Split ``s`` on ``sep`` where it is not nested inside brackets."""
    parts, depth, current = [], 0, []
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?")


def drop_thousands_commas(s: str) -> str:
    """``1,234,567`` -> ``1234567``; other strings unchanged."""
    return s.replace(",", "") if _THOUSANDS.fullmatch(s) else s


@dataclass(frozen=True)
class Number:
    """An exactly parsed number; ``places`` is set when it was written as a decimal fraction."""

    value: Fraction
    places: int | None = None
    significant: int = 0
    percent: bool = False


MAX_DIGITS = 1000  # larger numbers (or powers of ten) are left to the timed symbolic path
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_DECIMAL = re.compile(_NUM)
_SCIENTIFIC = re.compile(rf"({_NUM})(?:[eE]|(?:\\times|\\cdot|\*)10\^)\{{?([-+]?\d+)\}}?")
_EXPONENT = re.compile(r"(?:[eE]|\^)\{?([-+]?\d+)")
_POWER_OF_TEN = re.compile(r"10\^\{?([-+]?\d+)\}?")
_FRAC = re.compile(rf"([-+]?)\\frac\{{({_NUM})\}}\{{({_NUM})\}}|([-+]?)\\frac(\d)(\d)")
_SLASH = re.compile(rf"\(?({_NUM})\)?/\(?({_NUM})\)?")


def _decimal(text: str) -> Number:
    places = len(text.split(".")[1]) if "." in text else None
    digits = re.sub(r"[^\d]", "", text).lstrip("0")
    return Number(Fraction(text), places if places else None, len(digits))


def parse_number(answer: str) -> Number | None:
    """Parse a compact answer that is a plain number (integer, decimal, fraction, 1e3, 50%), else None.

    None also for numbers with more than MAX_DIGITS digits or powers of ten beyond 10^MAX_DIGITS, whose
    exact arithmetic could take unbounded time.
    """
    s = answer
    if len(s) > MAX_DIGITS or any(abs(int(e)) > MAX_DIGITS for e in _EXPONENT.findall(s)):
        return None
    percent = s.endswith("%")
    if percent:
        s = s[:-1]
    number = None
    if _DECIMAL.fullmatch(s):
        number = _decimal(s)
    elif m := _SCIENTIFIC.fullmatch(s):
        mantissa, exponent = _decimal(m.group(1)), int(m.group(2))
        places = (mantissa.places or 0) - exponent
        number = Number(mantissa.value * Fraction(10) ** exponent, places if places > 0 else None, mantissa.significant)
    elif m := _POWER_OF_TEN.fullmatch(s):
        number = Number(Fraction(10) ** int(m.group(1)))
    elif m := _FRAC.fullmatch(s):
        sign, num, den = (m.group(1), m.group(2), m.group(3)) if m.group(2) else m.group(4, 5, 6)
        if Fraction(den) != 0:
            number = Number(Fraction(num) / Fraction(den) * (-1 if sign == "-" else 1))
    elif (m := _SLASH.fullmatch(s)) and Fraction(m.group(2)) != 0:
        number = Number(Fraction(m.group(1)) / Fraction(m.group(2)))
    if number is None:
        return None
    return Number(number.value, number.places, number.significant, percent)
