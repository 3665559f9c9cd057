"""Static description of the supported benchmarks and their name aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How a gold answer is written in its field: the value itself (a string or a number), the last \boxed{} of a
# worked solution, the text after "####" (GSM8K), or a list of answers (OlympiadBench's final_answer).
AnswerForm = Literal["value", "boxed", "after_hashes", "list"]


@dataclass(frozen=True)
class RecordShape:
    """One layout of a benchmark's records: where the question and the gold answer live."""

    question_field: str
    answer_field: str
    answer_form: AnswerForm = "value"


@dataclass(frozen=True)
class BenchmarkSpec:
    """Where a benchmark lives and the layouts its records come in (the hub's first, then other public copies')."""

    name: str
    hub_id: str | None  # None for data bundled with this package
    hub_config: str | None
    split: str
    question_field: str  # the hub layout's question field
    answer_field: str  # the hub layout's gold answer field, written as answer_form says
    expected_count: int
    answer_form: AnswerForm = "value"
    other_shapes: tuple[RecordShape, ...] = ()  # layouts of other public copies (e.g. the Qwen2.5-Math eval files)

    @property
    def shapes(self) -> tuple[RecordShape, ...]:
        """Every accepted record layout, the hub's first."""
        return (RecordShape(self.question_field, self.answer_field, self.answer_form), *self.other_shapes)


BENCHMARKS: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in (
        BenchmarkSpec("math500", "HuggingFaceH4/MATH-500", None, "test", "problem", "answer", 500),
        # Maxwell-Jia/AIME_2024 capitalises (ID, Problem, Answer as a number); some copies say question.
        BenchmarkSpec("aime24", "HuggingFaceH4/aime_2024", None, "train", "problem", "answer", 30,
                      other_shapes=(RecordShape("Problem", "Answer"), RecordShape("question", "answer"))),
        # The answer is a float (27.0).
        BenchmarkSpec("amc23", "math-ai/amc23", None, "test", "question", "answer", 40),
        # The hub has question/answer; the Qwen2.5-Math eval copy has problem/solution with a \boxed{} answer.
        BenchmarkSpec("minerva_math", "math-ai/minervamath", None, "test", "question", "answer", 272,
                      other_shapes=(RecordShape("problem", "solution", "boxed"),)),
        # English, text-only, open-ended math competition subset; final_answer is a list (joined when
        # is_multiple_answer).
        BenchmarkSpec("olympiadbench", "math-ai/olympiadbench", None, "test", "question", "final_answer", 675,
                      answer_form="list"),
        BenchmarkSpec("gsm8k", "openai/gsm8k", "main", "test", "question", "answer", 1319, answer_form="after_hashes"),
        BenchmarkSpec("demo", None, None, "test", "problem", "answer", 8),
        BenchmarkSpec("toy", None, None, "test", "problem", "answer", 80),  # held-out sums (rast.toy_world)
    )
}

# Names used by the original RAST project (lower-cased) that differ from a canonical name.
# "OlympiadBench" and "GSM8K" need no entry: canonical names are matched case-insensitively.
ALIASES: dict[str, str] = {
    "math": "math500",
    "aime": "aime24",
    "amc": "amc23",
    "minerva": "minerva_math",
    "olympiad": "olympiadbench",
}


def canonical_name(name: str) -> str:
    """Resolve a benchmark name or alias (case-insensitive) to its canonical name."""
    key = name.strip().lower()
    if key in BENCHMARKS:
        return key
    if key in ALIASES:
        return ALIASES[key]
    known = sorted(set(BENCHMARKS) | set(ALIASES))
    raise ValueError(f"unknown benchmark {name!r}; known names: {', '.join(known)}")


def get_spec(name: str) -> BenchmarkSpec:
    """Return the registry entry for a benchmark name or alias."""
    return BENCHMARKS[canonical_name(name)]
