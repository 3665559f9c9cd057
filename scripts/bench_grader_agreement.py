"""Agreement of graders with the verdicts in tests/evaluator/cases (not a test).

pairs.jsonl holds (prediction, gold, verdict, source) answer pairs, responses.jsonl whole model
responses (response, gold, verdict, source); both are checked by tests/evaluator/test_cases.py.
held_out.jsonl holds either kind from other graders' test suites (NeMo-Skills, MARIO_EVAL, verl,
lm-evaluation-harness, Qwen2.5-Math) that no rule was tuned against and no test checks: a held-out
measure. false_positives.jsonl holds unequal pairs some grader calls equal (checked by test_cases.py: ours must
call none equal). Prints, per table and per source, how often each method gives the recorded verdict, and
each method's false positives (unequal answers it calls equal):

- ours: ``math_equal`` on pairs; ``extract_answer`` then ``math_equal`` on responses
- original: the Qwen2.5-Math / SimpleRL rules (``--grader original``), after our extraction on responses
- math-verify pairs: math-verify 0.9.0 parsing both answers (each wrapped in $...$)
- math-verify text: math-verify parsing the whole response (gold wrapped in $...$)

    python scripts/bench_grader_agreement.py [--cases tests/evaluator/cases]
"""

import argparse
import json
from collections import defaultdict
from pathlib import Path

from math_verify import parse, verify

from simplerl_math_eval.grader import Grader
from simplerl_math_eval.original import original_equal
from simplerl_math_eval.parser import extract_answer

DEFAULT_CASES = Path(__file__).resolve().parents[1] / "tests" / "evaluator" / "cases"


def math_verify_equal(prediction: str, gold: str) -> bool:
    """math-verify's own verdict: gold and prediction parsed with its default settings."""
    try:
        return bool(verify(parse(f"${gold}$"), parse(prediction)))
    except Exception:
        return False


def agreement(rows: list[dict], verdicts: list[bool]) -> dict[str, tuple[int, int]]:
    """(agreeing, total) per source and overall."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, verdict in zip(rows, verdicts):
        for key in (row["source"], "all"):
            counts[key][0] += verdict == row["verdict"]
            counts[key][1] += 1
    return {key: (a, n) for key, (a, n) in counts.items()}


def report(title: str, rows: list[dict], methods: dict[str, list[bool]]) -> None:
    """One table: a row per source, a column per method."""
    tables = {name: agreement(rows, verdicts) for name, verdicts in methods.items()}
    sources = sorted({row["source"] for row in rows}) + ["all"]
    false_positives = {name: sum(v and not row["verdict"] for row, v in zip(rows, verdicts))
                       for name, verdicts in methods.items()}
    print(f"\n{title} ({len(rows)} cases): agreement with the recorded verdicts")
    print(f"{'source':24}" + "".join(f"{name:>20}" for name in methods))
    for source in sources:
        cells = [tables[name][source] for name in methods]
        print(f"{source:24}" + "".join(f"{a:>7}/{n:<4} {100 * a / n:5.1f}%" for a, n in cells))
    print(f"{'false positives':24}" + "".join(f"{false_positives[name]:>20}" for name in methods))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=str(DEFAULT_CASES))
    parser.add_argument("--data_name", default="math500", help="data name passed to extract_answer")
    args = parser.parse_args()
    def load(name: str) -> list[dict]:
        return [json.loads(line) for line in (Path(args.cases) / name).read_text().splitlines() if line]
    pairs, responses, held_out = load("pairs.jsonl"), load("responses.jsonl"), load("held_out.jsonl")
    false_positives = load("false_positives.jsonl")
    extracted = [extract_answer(r["response"], args.data_name) for r in responses]

    def graded(grader: Grader, items: list[tuple[str, str]]) -> list[bool]:
        return [v.correct for v in grader.grade_many(items)]

    with Grader() as ours, Grader(timeout=3.0, compare=original_equal, fast=None) as original:
        pair_items = [(r["prediction"], r["gold"]) for r in pairs]
        response_items = [(a, r["gold"]) for a, r in zip(extracted, responses)]
        def mv_pairs(r: dict) -> bool:
            return math_verify_equal(f"${r['prediction']}$", r["gold"])
        report("answer pairs", pairs, {
            "ours": graded(ours, pair_items),
            "original": graded(original, pair_items),
            "math-verify pairs": [mv_pairs(r) for r in pairs],
        })
        report("responses", responses, {
            "ours": graded(ours, response_items),
            "original": graded(original, response_items),
            "math-verify text": [math_verify_equal(r["response"], r["gold"]) for r in responses],
        })
        held_items = [(extract_answer(r["response"], args.data_name) if "response" in r else r["prediction"], r["gold"])
                      for r in held_out]
        report("held out (never used to tune the grader)", held_out, {
            "ours": graded(ours, held_items),
            "original": graded(original, held_items),
            "math-verify": [math_verify_equal(r["response"] if "response" in r else f"${r['prediction']}$", r["gold"])
                            for r in held_out],
        })
        false_items = [(r["prediction"], r["gold"]) for r in false_positives]
        report("false positives (unequal answers some grader calls equal; kept at zero)", false_positives, {
            "ours": graded(ours, false_items),
            "original": graded(original, false_items),
            "math-verify pairs": [math_verify_equal(f"${r['prediction']}$", r["gold"]) for r in false_positives],
        })


if __name__ == "__main__":
    main()
