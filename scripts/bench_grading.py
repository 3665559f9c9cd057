"""Grading throughput benchmark (not a test).

Builds 675 OlympiadBench gold answers x 32 model-style samples, each either the gold in a varied
but equivalent form or a perturbed wrong answer (seeded), grades all of them twice with the
evaluator's normal path (a fresh Grader each time) and prints time, throughput, timeouts,
accuracy, agreement with the intended labels and whether both passes gave identical verdicts.

    python scripts/bench_grading.py [--data_dir ../shared/benchmarks] [--samples 32]
"""

import argparse
import random
import re
import time
from fractions import Fraction
from pathlib import Path

from rast_benchmarks import load_benchmark

from simplerl_math_eval.evaluate import grade_runs
from simplerl_math_eval.grader import Grader
from simplerl_math_eval.parser import parse_ground_truth

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
_SIMPLE_FRAC = re.compile(r"^(-?)\\frac\{(\d+)\}\{(\d+)\}$")
_INTEGER = re.compile(r"^-?\d+$")


def equivalent_form(gold: str, rng: random.Random) -> str:
    """The gold answer written differently but equivalently."""
    forms = [gold, gold.replace("\\frac", "\\dfrac"), re.sub(r",\s*", ", ", gold), re.sub(r"([+=-])", r" \1 ", gold)]
    if _INTEGER.match(gold):
        forms += [f"x = {gold}", f"{gold}.0", f"{gold} \\text{{ units}}", f"{int(gold):,}"]
    if m := _SIMPLE_FRAC.match(gold):
        value = Fraction(int(m.group(2)), int(m.group(3))) * (-1 if m.group(1) else 1)
        forms += [f"{value.numerator}/{value.denominator}", f"{float(value):.6f}",
                  f"{m.group(1)}\\tfrac{{{m.group(2)}}}{{{m.group(3)}}}"]
    items = gold.split(",")
    if len(items) > 1 and "(" not in gold and "[" not in gold:
        shuffled = items[:]
        rng.shuffle(shuffled)
        forms.append(", ".join(i.strip() for i in shuffled))
    if ("\\sqrt" in gold or "^" in gold) and "," not in gold and "=" not in gold:
        forms.append(f"\\left({gold}\\right)")
    return rng.choice(forms)


def wrong_form(gold: str, rng: random.Random) -> str:
    """A wrong answer: one number of the gold changed, or something else appended."""
    numbers = list(re.finditer(r"\d+", gold))
    if not numbers:
        return gold + "+1"
    m = rng.choice(numbers)
    return gold[: m.start()] + str(int(m.group()) + rng.randint(1, 9)) + gold[m.end() :]


def build_runs(golds: list[str], samples: int, seed: int) -> tuple[list[list[dict]], list[list[bool]]]:
    """``samples`` runs of model-style outputs and the intended correctness of each."""
    rng = random.Random(seed)
    runs, labels = [[] for _ in range(samples)], []
    for gold in golds:
        row = []
        for run in runs:
            correct = rng.random() < 0.6
            answer = equivalent_form(gold, rng) if correct else wrong_form(gold, rng)
            if rng.random() < 0.8:
                output = f"Let us work it out step by step. ... Therefore the final answer is $\\boxed{{{answer}}}$."
            else:
                output = f"After simplifying, the answer is ${answer}$."
            run.append({"question": "", "model_output": output})
            row.append(correct)
        labels.append(row)
    return runs, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    golds = [parse_ground_truth(r, "olympiadbench") for r in load_benchmark("olympiadbench", args.data_dir)]
    runs, labels = build_runs(golds, args.samples, args.seed)
    total = len(golds) * args.samples
    passes = []
    for attempt in (1, 2):
        with Grader(workers=args.workers) as grader:
            start = time.perf_counter()
            graded = grade_runs(runs, "olympiadbench", golds, grader)
            seconds = time.perf_counter() - start
        agreement = sum(
            graded.correct[j, r] == labels[j][r] for j in range(len(golds)) for r in range(args.samples)
        ) / total
        print(
            f"pass {attempt}: {total} samples in {seconds:.1f} s ({total / seconds:.0f} samples/s), "
            f"timeouts {int(graded.timed_out.sum())}, accuracy {graded.correct.mean():.4f}, "
            f"agreement with intended labels {agreement:.4f}"
        )
        passes.append(graded)
    identical = (passes[0].correct == passes[1].correct).all() and (passes[0].timed_out == passes[1].timed_out).all()
    print(f"verdicts identical between passes: {bool(identical)}")


if __name__ == "__main__":
    main()
