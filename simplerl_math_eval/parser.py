"""Extracting the final answer from a model output and the gold answer from a benchmark record."""

import re

from rast_benchmarks import gold_answer

from simplerl_math_eval.normalize import clean, compact, parse_number
from simplerl_math_eval.numeric import constant_value

_BOXED = re.compile(r"\\(?:boxed|fbox)\b")
_BRACE = re.compile(r"[{}]")
_SPACES = re.compile(r"\s*")
_BARE_BOX = re.compile(r"\s+([^\s$]+)")
_INLINE_MATH = re.compile(r"^\$+(.*?)\$+|^\\\((.*?)\\\)|^\\\[(.*?)\\\]", re.S)
_TEXT_WRAPPED = re.compile(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}")
# A segment never spans another opener of its kind: an unclosed "\\(" scans only up to the next one (linear).
_MATH_SEGMENT = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(.+?)(?<!\\)\$|\\\(((?:(?!\\\().)+?)\\\)|\\\[((?:(?!\\\[).)+?)\\\]", re.S)
# Boxes joined only by these belong to one answer ("\boxed{2} and \boxed{3}").
_BOX_JOINER = re.compile(
    r"[\s$,;.]*(?:(?:and|or|et|und|y|和|或|\\text\{\s*(?:and|or)\s*\}|\\q?quad|\\[,;:!])[\s$,;]*)*", re.I)

# Phrases that introduce the final answer, in any position; the one that occurs last in the response
# wins (a \boxed{} counts as such a phrase). Each comes with words one of which it needs (casefolded): a
# pattern whose words are all absent from a response is not run on it.
_SENTENCE_END = r"(?=\n|(?<!\.\.)\.(?:\s|$)|。|$)"  # an ellipsis ("2 + ... + 2 = 64") ends no sentence
_PHRASES: list[tuple[str, tuple[str, ...]]] = [
    # Minerva; the answer never spans another "final answer is" (linear when "I hope" never comes)
    (r"final answer is\s*(?P<answer>(?:(?!final answer is).)*?)\s*\.?\s*I hope it is correct", ("final answer is",)),
    (r"(?:answer|result)(?:\s+is|\s*:)\s*:?\s*(?P<answer>.*?)" + _SENTENCE_END, ("answer", "result")),
    (r"(?:答案|结果)\s*(?:是|为|:|：)\s*(?P<answer>.*?)" + _SENTENCE_END, ("答案", "结果")),
    (
        r"(?:réponse est|réponse\s*:|Antwort ist|Antwort\s*:|respuesta es|respuesta\s*:|Ответ\s*:)"
        r"\s*(?P<answer>.*?)" + _SENTENCE_END,
        ("réponse", "antwort", "respuesta", "ответ"),
    ),
    # an option letter named in a closing sentence: "I think it's B", "the correct option is (D)"
    (r"(?:it's|it is|option is|choice is|option|choice)\s*\(?(?P<answer>[A-E])\)?(?![\w(])",
     ("it's", "it is", "option", "choice")),
]
ANSWER_PHRASES: list[tuple[re.Pattern, tuple[str, ...]]] = [(re.compile(p, re.I | re.S), w) for p, w in _PHRASES]
# Without any phrase: the last of these in the closing text.
_PERCENT = r"(?:\s*(?:\\?%|percent(?:age)?\b|pct\b))?"
_NUMBER_LIKE = re.compile(
    r"(?<!\d)-?\d*[½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅐⅛⅜⅝⅞⅑⅒]"  # a Unicode fraction ¾, a mixed 3½
    r"|\(\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)+\s*\)"  # a tuple (7, 6)
    r"|\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?"  # a time 8:34 PM
    r"|-?\\[dt]?frac\{\d+\}\{\d+\}"  # a LaTeX fraction outside math delimiters
    r"|(?<![\^\w.])[-+]?(?:\d+[ \t]+)?\d+(?:\.\d+)?\s*/\s*\d+(?!\d|\.\d)" + _PERCENT +  # 2/3, a mixed 4 4/9
    r"|(?<![\^\w])-?\d{1,3}(?: \d{3})+(?![\d/])"  # thousands grouped by spaces: 1 000
    r"|(?<![\^\w])-?\d[\d,]*(?:\.\d+)?" + _PERCENT + r"|(?<![\^\w])-?\.\d+"
)
# A response that is nothing but numbers joined by operators ("11 + 4/9") is its own answer.
_ARITHMETIC = re.compile(r"\s*[-+]?\d+(?:\.\d+)?(?:\s*[-+*/]\s*\d+(?:\.\d+)?)+\s*")
# Words in an answer phrase's text (outside math and LaTeX commands): two or more make it a sentence.
_WORD = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{3,}")
_CONNECTOR = re.compile(r"\s(?:is|are|was|equals|=)\s", re.I)
# A word between an answer phrase and its answer ("The answer is thus 12").
_FILLER = re.compile(r"(?:thus|therefore|hence|so|then|simply|just|clearly|indeed|actually|finally)\b[\s,:]*", re.I)


def _closing_braces(text: str) -> dict[int, int]:
    """For each ``{`` of ``text`` that is closed, the index of the ``}`` closing it (one pass: linear in the text)."""
    closing, open_braces = {}, []
    for brace in _BRACE.finditer(text):
        if brace.group() == "{":
            open_braces.append(brace.start())
        elif open_braces:
            closing[open_braces.pop()] = brace.start()
    return closing


def _boxes(text: str) -> list[tuple[int, int, int, int]]:
    """Every ``\\boxed{...}`` / ``\\fbox{...}`` / ``\\boxed 5`` as (start, end, content start, content end)."""
    boxes, closing = [], None
    for match in _BOXED.finditer(text):
        brace = _SPACES.match(text, match.end()).end()
        if text.startswith("{", brace):
            closing = _closing_braces(text) if closing is None else closing
            if brace in closing:
                boxes.append((match.start(), closing[brace] + 1, brace + 1, closing[brace]))
        elif token := _BARE_BOX.match(text, match.end()):
            boxes.append((match.start(), token.end(), token.start(1), token.end(1)))
    return boxes


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` / ``\\fbox{...}`` / ``\\boxed 5`` in ``text``."""
    boxes = _boxes(text)
    return text[boxes[-1][2]:boxes[-1][3]] if boxes else None


_APPROXIMATELY = re.compile(r"\\approx|≈|\\simeq")
APPROXIMATION_GAP = 200  # at most this many characters between an exact box and the box approximating it


def _approximates(text: str, exact: tuple[int, int, int, int], approximation: tuple[int, int, int, int]) -> bool:
    """The box ``approximation`` approximates the box ``exact`` shortly before it: an ``\\approx`` opens it or
    comes between them, or it holds a decimal of at least 3 significant digits (graded equal to either box against a
    decimal gold) within one unit in its last place of the exact box's value (a value that is not itself a decimal:
    \\boxed{\\frac{\\sqrt{2}}{2}} ... \\boxed{0.707})."""
    if exact[1] > approximation[0] or approximation[0] - exact[1] > APPROXIMATION_GAP:
        return False  # nested, or far apart
    content = text[approximation[2]:approximation[3]]
    if _APPROXIMATELY.search(text, exact[1], approximation[0]) or _APPROXIMATELY.match(content.lstrip()):
        return True
    decimal, exact_text = parse_number(compact(content)), clean(text[exact[2]:exact[3]])
    if decimal is None or decimal.places is None or decimal.significant < 3:
        return False
    if parse_number(exact_text.replace(" ", "")) is not None:
        return False
    value = constant_value(exact_text)
    return value is not None and abs(value - float(decimal.value)) <= 10.0 ** -decimal.places


def _final_boxes(text: str) -> tuple[int, str] | None:
    """The last box, joined with the boxes right before it ("\\boxed{2} and \\boxed{3}" -> "2, 3"); a last box that
    approximates the box before it gives way to that exact one."""
    boxes = _boxes(text)
    if not boxes:
        return None
    if len(boxes) > 1 and _approximates(text, boxes[-2], boxes[-1]):
        boxes.pop()
    first = len(boxes) - 1
    while first > 0:  # a box around the next one (nested) is not joined to it
        before, after = boxes[first - 1][1], boxes[first][0]
        if before > after or not _BOX_JOINER.fullmatch(text, before, after):
            break
        first -= 1
    written = dict.fromkeys(text[start:end] for _, _, start, end in boxes[first:])
    contents = list(dict.fromkeys(_strip(content) for content in written))
    return boxes[first][0], ", ".join(contents)


def _drop_trailing_comma(answer: str) -> str:
    """A comma closing an answer, inside its math or not ("$\\frac{1}{3},$"); "1, 2, 3, ..." has none (a list
    goes on)."""
    core = answer.rstrip("$")
    dollars = answer[len(core):]
    core = core.rstrip()
    return core[:-1].rstrip() + dollars if core.endswith((",", ";")) else answer


def _strip(answer: str) -> str:
    """Remove math delimiters, a whole-answer ``\\text{}`` and trailing punctuation."""
    s = _drop_trailing_comma(answer.strip())
    for _ in range(3):
        s = s.strip().rstrip(".。").strip()
        m = _INLINE_MATH.match(s)
        if m and m.end() == len(s):
            s = next(g for g in m.groups() if g is not None)
        full_text = _TEXT_WRAPPED.fullmatch(s)
        if full_text:
            s = full_text.group(1)
    return s.strip().rstrip(".").strip().strip("$").strip().strip("*").strip()


def _phrase_text(match: re.Match) -> str:
    """The answer an answer phrase introduces, stripped of math delimiters and boxes; when it is a sentence
    ("The volume of $V$ is 120"), the value that closes it."""
    answer = match.group("answer").strip()
    if filler := _FILLER.match(answer):
        answer = answer[filler.end():]
    if len(_WORD.findall(_MATH_SEGMENT.sub(" ", answer))) >= 2:
        answer = _CONNECTOR.split(answer)[-1]
        if value := _closing_value(answer):
            return value
    math = _INLINE_MATH.match(answer)
    if math and not answer[math.end() :].lstrip().startswith("$"):
        answer = next(g for g in math.groups() if g is not None)
    else:  # "$a + $ $b$": one answer split over several segments
        answer = answer.replace("$", " ")
    inner = last_boxed(answer)
    return _strip(inner if inner is not None else answer)


_ONE_LETTER_NAME = re.compile(r"(?<![A-Za-z\\])[A-Za-z](?![A-Za-z])")


def _computed_value(answer: str) -> str:
    """The number closing a computation (``2 + 2 + \\cdots + 2 = 64``, ``\\binom{8}{2} choose ... = 28``): the
    part after the last ``=`` when it is a plain number and the part before it names no variable (an equation such
    as ``2x - y = 8`` is kept whole)."""
    if "=" not in answer:
        return answer
    before, _, after = answer.rpartition("=")
    if parse_number(compact(after)) is None or _ONE_LETTER_NAME.search(before):
        return answer
    return after.strip()


def _phrase_answer(text: str, after: int = -1) -> tuple[int, str] | None:
    """The non-empty answer after the answer phrase that occurs last (starting after ``after``), with its
    position; on the same position the earlier phrase in ANSWER_PHRASES wins."""
    folded = text.casefold()
    matches = [
        (match.start(), order, match)
        for order, (pattern, words) in enumerate(ANSWER_PHRASES)
        if any(word in folded for word in words)
        for match in pattern.finditer(text)
        if match.start() > after
    ]
    for start, _, match in sorted(matches, key=lambda m: (-m[0], m[1])):
        if answer := _phrase_text(match):
            return start, answer
    return None


def _closing_value(text: str) -> str:
    """No answer phrase: the whole text when it is plain arithmetic ("11 + 4/9"); else the last math segment of
    the closing 400 characters when only words follow it, else the last number, fraction, tuple or time."""
    text = text.rstrip()
    if _ARITHMETIC.fullmatch(text):
        return text.strip()
    closing_start = len(text) - 400
    segments = [m for m in _MATH_SEGMENT.finditer(text) if m.end() > closing_start]  # paired from the start
    numbers = list(_NUMBER_LIKE.finditer(text, max(0, closing_start)))
    if segments and not (numbers and numbers[-1].start() > segments[-1].end()):
        return _strip(next(g for g in segments[-1].groups() if g is not None))
    numbers = numbers or list(_NUMBER_LIKE.finditer(text))
    return numbers[-1].group().rstrip(",") if numbers else ""


def extract_answer(text: str, data_name: str) -> str:
    """The final answer in a model output (``""`` when there is none).

    Only the text after a closing ``</think>`` counts when there is one. The last of: a ``\\boxed{}``
    (boxes joined by "and" or commas together), an answer phrase (``ANSWER_PHRASES``: Minerva's
    "final answer is", "the answer is", "Answer:", other languages, option letters). Without
    either: the last math segment of the closing text, else its last number, fraction, tuple or time.
    ``data_name`` is accepted for callers that pass it; extraction is the same for every benchmark.
    """
    if "</think>" in text and text.rsplit("</think>", 1)[1].strip():
        text = text.rsplit("</think>", 1)[1]
    boxes = _final_boxes(text)
    phrase = _phrase_answer(text, after=boxes[0] if boxes else -1)
    if phrase or boxes:
        return _computed_value((phrase or boxes)[1])
    return _closing_value(text)


def parse_ground_truth(record: dict, data_name: str) -> str:
    """The gold answer of a raw benchmark record, as a string: the benchmark registry reads every layout
    (``rast_benchmarks.gold_answer``); a record of no known layout is a ValueError naming its fields."""
    try:
        return gold_answer(data_name, record)
    except KeyError as error:
        raise ValueError(error.args[0]) from None
