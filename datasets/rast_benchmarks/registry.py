"""Static description of the supported benchmarks and their name aliases."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchmarkSpec:
    """Where a benchmark lives and how its records are shaped."""

    name: str
    hub_id: str | None  # None for data bundled with this package
    hub_config: str | None
    split: str
    question_field: str
    answer_field: str  # documentation only; gold parsing belongs to the evaluator
    expected_count: int


BENCHMARKS: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in (
        BenchmarkSpec("math500", "HuggingFaceH4/MATH-500", None, "test", "problem", "answer", 500),
        BenchmarkSpec("aime24", "HuggingFaceH4/aime_2024", None, "train", "problem", "answer", 30),
        BenchmarkSpec("amc23", "math-ai/amc23", None, "test", "question", "answer", 40),
        # Gold answer: the \boxed{} answer inside the solution.
        BenchmarkSpec("minerva_math", "math-ai/minervamath", None, "test", "problem", "solution", 272),
        # English, text-only, open-ended math competition subset; gold answer: final_answer[0].
        BenchmarkSpec("olympiadbench", "math-ai/olympiadbench", None, "test", "question", "final_answer", 675),
        # Gold answer: the text after "####".
        BenchmarkSpec("gsm8k", "openai/gsm8k", "main", "test", "question", "answer", 1319),
        BenchmarkSpec("demo", None, None, "test", "problem", "answer", 8),
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
