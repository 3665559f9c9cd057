"""Verdict tables carried over from other graders' test suites and written model responses (cases/*.jsonl).

Each row must get its recorded verdict, except a row marked ``known_miss`` (with the reason), which must still
miss: one that starts passing must lose its mark.
"""

import json
from pathlib import Path


from simplerl_math_eval.parser import extract_answer

CASES = Path(__file__).parent / "cases"


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (CASES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]


def check(rows: list[dict], correct: list[bool], shown: list[tuple]) -> None:
    missed = [row["verdict"] != verdict for row, verdict in zip(rows, correct)]
    unexpected = [item for row, miss, item in zip(rows, missed, shown) if miss and "known_miss" not in row]
    assert not unexpected, unexpected
    fixed = [item for row, miss, item in zip(rows, missed, shown) if not miss and "known_miss" in row]
    assert not fixed, f"now graded as recorded, remove their known_miss: {fixed}"


def test_answer_pairs(grader):
    rows = load("pairs")
    verdicts = grader.grade_many([(r["prediction"], r["gold"]) for r in rows])
    check(rows, [v.correct for v in verdicts], [(r["prediction"], r["gold"], r["verdict"]) for r in rows])


def test_responses(grader):
    rows = load("responses")
    answers = [extract_answer(r["response"], "math500") for r in rows]
    verdicts = grader.grade_many([(a, r["gold"]) for a, r in zip(answers, rows)])
    check(rows, [v.correct for v in verdicts], [(r["response"][-200:], a, r["gold"]) for r, a in zip(rows, answers)])


def test_no_false_positives(grader):
    """Unequal answers that some grader calls equal (cases/false_positives.jsonl): none may be graded right."""
    rows = load("false_positives")
    assert rows and not any(row["verdict"] for row in rows)
    verdicts = grader.grade_many([(r["prediction"], r["gold"]) for r in rows])
    assert [(r["prediction"], r["gold"]) for r, v in zip(rows, verdicts) if v.correct] == []
