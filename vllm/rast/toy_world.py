"""RAST in miniature: a toy task with a latent reasoning behaviour, and models trained on it here, on a CPU.

The task: the sum of four one-digit numbers, prompted as ``Q:3+5+2+7\\nA:``. The pre-training corpus answers in two
styles: mostly a direct guess ``\\boxed{N}`` that is noisy (N is off by up to 5 unless by luck), and, in
:data:`STEP_SHARE` of the examples, step by step, ``3+5=8,8+2=10,10+7=17,\\boxed{17}``, always right. Every
answer ends with the EOS token. The first answer token is the branching decision: a digit starts the steps,
``\\`` the guess.

The models (Qwen2, one character-level tokenizer shared by all, different embedding paddings as real checkpoints
have):

- ``toy-base``: the large base model, pre-trained on the corpus;
- ``toy-small``: a small model pre-trained on the same corpus (the negative: the small model before RL);
- ``toy-small-rl``: ``toy-small`` after a simple RL on answer correctness, expert iteration (sample answers to
  training problems, keep the correct ones, fine-tune on them, a few rounds) (the positive);
- ``toy-base-rl``: the same RL on the base (the RL-tuned large model RAST should recover).

The held-out problems (:func:`held_out_problems`, bundled as the ``toy`` benchmark) never appear in training.
Everything is seeded and runs on one CPU thread, so the same command writes the same weights:

    python -m rast.toy_world train                 # into rast/toy_models/ (a few minutes)
    python -m rast.toy_world benchmark OUT.jsonl   # the held-out problems, one {"problem", "answer"} per line
    python -m rast.toy_world paths                 # the bundled checkpoints by role
    python -m rast.toy_world table --base DIR --small_rl DIR --rast DIR [DIR ...] [--rl_base DIR]
                                                   # the paper's table from scored results (scripts/demo.sh)
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from rast_benchmarks.prompts import PROMPT_TEMPLATES
from tqdm import tqdm

EOS = "<|endoftext|>"
CHARACTERS = "0123456789+=,:\\{}QAboxed\n"  # the tokenizer's vocabulary after EOS (id 0)
PROMPT_TEMPLATE = PROMPT_TEMPLATES["toy"]
STEP_SHARE = 0.2  # share of step-by-step answers in the pre-training corpus
GUESS_NOISE = 5  # a direct guess is the sum plus a uniform offset in [-GUESS_NOISE, GUESS_NOISE]
TERMS = 4
HELD_OUT = 80  # held-out problems
HELD_OUT_SEED = 2025
MODELS_DIR = Path(__file__).resolve().parent / "toy_models"
ROLES = {"base": "toy-base", "positive": "toy-small-rl", "negative": "toy-small", "base_rl": "toy-base-rl"}


@dataclass(frozen=True)
class Architecture:
    """A Qwen2 shape; ``vocab_rows`` pads the embedding past the tokenizer's size."""

    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_rows: int
    tie_word_embeddings: bool


@dataclass(frozen=True)
class Recipe:
    """Every knob of :func:`train`; the defaults make the bundled checkpoints."""

    base: Architecture = Architecture(128, 256, 4, 4, 2, 48, False)
    small: Architecture = Architecture(64, 128, 2, 2, 1, 40, True)
    base_steps: int = 1000
    small_steps: int = 800
    batch_size: int = 64
    learning_rate: float = 2e-3
    rl_rounds: int = 3
    rl_problems: int = 256  # training problems sampled per round
    rl_samples: int = 4  # answers per problem
    rl_steps: int = 60  # fine-tuning steps per round on the kept answers
    rl_learning_rate: float = 5e-4
    seed: int = 0
    seeds: dict[str, int] = field(default_factory=lambda: {"base": 1, "small": 2, "base_rl": 3, "small_rl": 4})


# ---- the task ---------------------------------------------------------------------------------------------------

def question(terms: Sequence[int]) -> str:
    """``3+5+2+7``."""
    return "+".join(str(t) for t in terms)


def step_answer(terms: Sequence[int]) -> str:
    """``3+5=8,8+2=10,10+7=17,\\boxed{17}``: always right."""
    steps, total = [], terms[0]
    for term in terms[1:]:
        steps.append(f"{total}+{term}={total + term}")
        total += term
    return ",".join(steps) + f",\\boxed{{{total}}}"


def guess_answer(terms: Sequence[int], rng: random.Random) -> str:
    """``\\boxed{N}`` with N the sum plus a uniform offset (so right about once in 2*GUESS_NOISE+1)."""
    return f"\\boxed{{{max(0, sum(terms) + rng.randint(-GUESS_NOISE, GUESS_NOISE))}}}"


def random_terms(rng: random.Random) -> tuple[int, ...]:
    return tuple(rng.randint(1, 9) for _ in range(TERMS))


def held_out_problems(count: int = HELD_OUT) -> list[tuple[int, ...]]:
    """The held-out problems, distinct, in a fixed order."""
    rng, problems = random.Random(HELD_OUT_SEED), {}
    while len(problems) < count:
        problems.setdefault(random_terms(rng), None)
    return list(problems)


def benchmark_records(count: int = HELD_OUT) -> list[dict[str, str]]:
    """The ``toy`` benchmark: ``{"problem": "3+5+2+7", "answer": "17"}`` per held-out problem."""
    return [{"problem": question(terms), "answer": str(sum(terms))} for terms in held_out_problems(count)]


def boxed_value(answer: str) -> str | None:
    """The text inside the last ``\\boxed{}`` of an answer, if closed."""
    start = answer.rfind("\\boxed{")
    end = answer.find("}", start)
    return answer[start + 7:end] if start >= 0 and end >= 0 else None


class TrainingProblems:
    """Random problems that are not held out, from a seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.held_out = set(held_out_problems())

    def draw(self) -> tuple[int, ...]:
        while (terms := random_terms(self.rng)) in self.held_out:
            pass
        return terms

    def corpus_example(self) -> tuple[tuple[int, ...], str]:
        """A pre-training example: a problem and an answer in one of the two styles."""
        terms = self.draw()
        step = self.rng.random() < STEP_SHARE
        return terms, step_answer(terms) if step else guess_answer(terms, self.rng)


# ---- tokenizer and models ---------------------------------------------------------------------------------------

def make_tokenizer():
    """Character-level tokenizer (EOS = id 0), loadable by transformers and vLLM.

    It is built the way transformers rebuilds any Qwen2 tokenizer (byte-level BPE, Qwen2's pre-tokenizer), here
    without merges, so that every character is one token whichever loader reads it.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    byte_level = {"\n": "\u010a"}  # GPT-2's byte-level alphabet writes byte 10 as "Ċ"; printable ASCII is itself
    vocab = {EOS: 0, **{byte_level.get(char, char): i + 1 for i, char in enumerate(CHARACTERS)}}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=None, fuse_unk=False, byte_fallback=False))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tokenizer.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, pad_token=EOS)


def encode(text: str) -> list[int]:
    """Token ids of a text of the task's characters."""
    return [CHARACTERS.index(char) + 1 for char in text]


def decode(ids: Sequence[int]) -> str:
    """The text of token ids, up to the first EOS."""
    text = []
    for token in ids:
        if token == 0:
            break
        text.append(CHARACTERS[token - 1] if token <= len(CHARACTERS) else "")
    return "".join(text)


def prompt_ids(terms: Sequence[int]) -> list[int]:
    return encode(PROMPT_TEMPLATE.format(question=question(terms)))


def new_model(architecture: Architecture, seed: int):
    """A randomly initialised float32 Qwen2 model of that shape."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    shape = asdict(architecture)
    config = Qwen2Config(**{k: v for k, v in shape.items() if k != "vocab_rows"}, vocab_size=shape["vocab_rows"],
                         max_position_embeddings=128, rope_theta=10000.0, rms_norm_eps=1e-6, initializer_range=0.02,
                         bos_token_id=0, eos_token_id=0, pad_token_id=0, architectures=["Qwen2ForCausalLM"])
    torch.manual_seed(seed)
    return Qwen2ForCausalLM(config).to(torch.float32)


def save(model, out_dir: Path) -> None:
    """Checkpoint (safetensors), tokenizer and generation config (EOS) in one folder."""
    from transformers import GenerationConfig

    model.save_pretrained(out_dir, safe_serialization=True)
    make_tokenizer().save_pretrained(out_dir)
    GenerationConfig(bos_token_id=0, eos_token_id=0, pad_token_id=0).save_pretrained(out_dir)


# ---- training ---------------------------------------------------------------------------------------------------

def batch_tensors(examples: Sequence[tuple[Sequence[int], str]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids [B, T] (prompt + answer + EOS, right-padded with EOS) and a loss mask [B, T-1] on answer tokens."""
    rows = [(prompt_ids(terms), encode(answer) + [0]) for terms, answer in examples]
    width = max(len(p) + len(a) for p, a in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)  # [B, T]
    mask = torch.zeros(len(rows), width - 1)  # [B, T-1]: predicts ids[:, 1:]
    for row, (prompt, answer) in enumerate(rows):
        ids[row, :len(prompt) + len(answer)] = torch.tensor(prompt + answer)
        mask[row, len(prompt) - 1:len(prompt) + len(answer) - 1] = 1.0
    return ids, mask


def answer_loss(model, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the answer tokens."""
    logits = model(input_ids=ids[:, :-1]).logits  # [B, T-1, vocab_rows]
    losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")  # [B, T-1]
    return (losses * mask).sum() / mask.sum()


def fit(model, next_batch, steps: int, learning_rate: float, desc: str) -> None:
    """AdamW with linear warm-up and cosine decay, one batch from ``next_batch()`` per step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0, betas=(0.9, 0.98))
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * s / steps)))
    model.train()
    with tqdm(range(steps), desc=desc, unit="step", leave=False) as bar:
        for _ in bar:
            loss = answer_loss(model, *batch_tensors(next_batch()))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()


@torch.inference_mode()
def sample(model, problems: Sequence[tuple[int, ...]], generator: torch.Generator, max_new_tokens: int = 40,
           temperature: float = 1.0) -> list[str]:
    """One answer per problem, sampled at ``temperature`` with a KV cache (all prompts have the same length)."""
    ids = torch.tensor([prompt_ids(terms) for terms in problems])  # [B, P]
    vocab = len(CHARACTERS) + 1
    out = model(input_ids=ids, use_cache=True)
    answers = torch.zeros(len(problems), 0, dtype=torch.long)  # [B, t]
    done = torch.zeros(len(problems), dtype=torch.bool)  # [B]
    for _ in range(max_new_tokens):
        probs = torch.softmax(out.logits[:, -1, :vocab] / temperature, dim=-1)  # [B, vocab]
        token = torch.multinomial(probs, 1, generator=generator)  # [B, 1]
        token[done] = 0
        answers = torch.cat([answers, token], dim=1)
        done |= token[:, 0] == 0
        if done.all():
            break
        out = model(input_ids=token, past_key_values=out.past_key_values, use_cache=True)
    return [decode(row) for row in answers.tolist()]


def is_correct(terms: Sequence[int], answer: str) -> bool:
    return boxed_value(answer) == str(sum(terms))


def expert_iteration(model, recipe: Recipe, seed: int, desc: str):
    """RL on answer correctness: per round, sample answers, keep the correct ones, fine-tune on them."""
    tuned = copy.deepcopy(model)
    problems = TrainingProblems(seed)
    generator = torch.Generator().manual_seed(seed)
    for round_index in range(recipe.rl_rounds):
        drawn = [problems.draw() for _ in range(recipe.rl_problems)]
        tuned.eval()
        kept = [(terms, answer) for _ in range(recipe.rl_samples)
                for terms, answer in zip(drawn, sample(tuned, drawn, generator)) if is_correct(terms, answer)]
        if not kept:
            continue
        fit(tuned, lambda: problems.rng.sample(kept, min(recipe.batch_size, len(kept))), recipe.rl_steps,
            recipe.rl_learning_rate, f"{desc} round {round_index + 1}/{recipe.rl_rounds} ({len(kept)} kept)")
    return tuned


def pretrain(architecture: Architecture, recipe: Recipe, steps: int, seed: int, desc: str):
    """A new model trained on the corpus for ``steps`` batches."""
    model = new_model(architecture, seed)
    corpus = TrainingProblems(seed)
    fit(model, lambda: [corpus.corpus_example() for _ in range(recipe.batch_size)], steps, recipe.learning_rate,
        desc)
    return model


def held_out_report(models: dict[str, object], samples: int = 4) -> dict[str, dict[str, float]]:
    """Per model alone: accuracy and share of step-by-step answers on the held-out problems (T=1)."""
    problems = held_out_problems()
    report = {}
    for name, model in models.items():
        generator = torch.Generator().manual_seed(0)
        answers = [(terms, a) for _ in range(samples) for terms, a in zip(problems, sample(model, problems, generator))]
        report[name] = {"accuracy": sum(is_correct(t, a) for t, a in answers) / len(answers),
                        "step_share": sum(a[:1].isdigit() for _, a in answers) / len(answers)}
    return report


def train(out_dir: Path = MODELS_DIR, recipe: Recipe = Recipe()) -> dict[str, dict[str, float]]:
    """Train the four checkpoints into ``out_dir/{toy-base, toy-small, toy-small-rl, toy-base-rl}``."""
    torch.set_num_threads(1)
    torch.manual_seed(recipe.seed)
    base = pretrain(recipe.base, recipe, recipe.base_steps, recipe.seeds["base"], "pre-train base")
    small = pretrain(recipe.small, recipe, recipe.small_steps, recipe.seeds["small"], "pre-train small")
    small_rl = expert_iteration(small, recipe, recipe.seeds["small_rl"], "RL small")
    base_rl = expert_iteration(base, recipe, recipe.seeds["base_rl"], "RL base")
    models = {"base": base, "negative": small, "positive": small_rl, "base_rl": base_rl}
    for role, model in models.items():
        save(model, Path(out_dir) / ROLES[role])
    report = held_out_report({ROLES[role]: model for role, model in models.items()})
    (Path(out_dir) / "recipe.json").write_text(json.dumps({"recipe": asdict(recipe), "held_out": report}, indent=2))
    return report


def toy_model_paths(models_dir: Path = MODELS_DIR) -> dict[str, str]:
    """The bundled checkpoints by role: base, positive, negative, base_rl."""
    return {role: str(models_dir / name) for role, name in ROLES.items()}


# ---- the paper's table in miniature -------------------------------------------------------------------------------

def row_metrics(res_dir: Path) -> dict[str, float]:
    """Accuracy (mean pass@1), maj@k, pass@k (k = samples per problem) and the share of step-by-step answers of a
    results directory scored by the evaluator (metrics.json, written with --evaluation_mode majority)."""
    from rast_benchmarks.loading import read_jsonl

    metrics = json.loads((res_dir / "metrics.json").read_text())
    k = str(metrics["num_samples"])
    outputs = [row["model_output"] for path in sorted(res_dir.glob("prediction-*.jsonl")) for row in read_jsonl(path)]
    return {"accuracy": metrics["average"], "maj@k": metrics["maj@k"][k], "pass@k": metrics["pass@k"][k],
            "step_share": sum(output[:1].isdigit() for output in outputs) / len(outputs), "k": int(k)}


def rast_alpha(res_dir: Path) -> float:
    """The alpha of a RAST results directory, from its run_config.json."""
    return json.loads((res_dir / "run_config.json").read_text())["settings"]["pairs"][0]["alpha"]


def examples(rows: dict[str, Path], count: int = 3) -> str:
    """Run 0's answers to the first ``count`` problems, one line per results directory (labelled)."""
    from rast_benchmarks.loading import read_jsonl

    answers = {label: read_jsonl(res_dir / "prediction-0.jsonl")[:count] for label, res_dir in rows.items()}
    lines = [f"answers (run 0) to the first {count} problems:"]
    for index, record in enumerate(next(iter(answers.values()))):
        lines.append(f"  Q:{record['question']} (gold {record['answer']})")
        lines += [f"    {label:14}{answer[index]['model_output']}" for label, answer in answers.items()]
    return "\n".join(lines) + "\n"


def paper_table(base: Path, small_rl: Path, rast: Sequence[Path], rl_base: Path | None = None,
                headline_alpha: float = 1.0) -> str:
    """The rows of a RAST table (base, small RL model, RAST per alpha, RL-tuned base) with the recovery rate
    RR = (RAST - base) / (RL base - base) on accuracy, then a one-line summary at ``headline_alpha``."""
    rows = [("base alone", row_metrics(base)), ("small RL model alone", row_metrics(small_rl))]
    rows += [(f"RAST alpha {rast_alpha(d):g}", row_metrics(d)) for d in rast]
    if rl_base is not None:
        rows.append(("RL-tuned base alone", row_metrics(rl_base)))
    k = rows[0][1]["k"]
    base_accuracy = rows[0][1]["accuracy"]
    gain = rows[-1][1]["accuracy"] - base_accuracy if rl_base is not None else 0.0
    lines = [f"{'':22}{'accuracy':>9}{f'maj@{k}':>8}{f'pass@{k}':>8}{'step-by-step':>14}{'RR':>8}"]
    for label, m in rows:
        recovers = label.startswith("RAST") and gain > 0
        recovery = f"{100 * (m['accuracy'] - base_accuracy) / gain:.0f}%" if recovers else ""
        lines.append(f"{label:22}{100 * m['accuracy']:9.1f}{100 * m['maj@k']:8.1f}{100 * m['pass@k']:8.1f}"
                     f"{100 * m['step_share']:13.0f}%{recovery:>8}")
    headline = next((m for label, m in rows[2:2 + len(rast)] if label == f"RAST alpha {headline_alpha:g}"), None)
    if headline is None:
        label, headline = max(rows[2:2 + len(rast)], key=lambda row: row[1]["accuracy"])
        headline_alpha = float(label.split()[-1])
    lines.append(f"RAST on the toy task: base pass@1 {base_accuracy:.2f} -> RAST pass@1 {headline['accuracy']:.2f} "
                 f"(alpha {headline_alpha:g})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    training = commands.add_parser("train", help="train the checkpoints (deterministic)")
    training.add_argument("--out_dir", type=Path, default=MODELS_DIR)
    training.add_argument("--quick", action="store_true", help="a few steps only (a smoke test, not a toy world)")
    commands.add_parser("benchmark", help="write the held-out problems as JSONL").add_argument("path", type=Path)
    commands.add_parser("paths", help="print the bundled checkpoints by role")
    table = commands.add_parser("table", help="the paper's table from results directories scored by the evaluator")
    table.add_argument("--base", type=Path, required=True)
    table.add_argument("--small_rl", type=Path, required=True)
    table.add_argument("--rast", type=Path, nargs="+", required=True)
    table.add_argument("--rl_base", type=Path)
    args = parser.parse_args(argv)
    if args.command == "train":
        recipe = Recipe()
        if args.quick:
            recipe = replace(recipe, base_steps=3, small_steps=3, rl_rounds=1, rl_problems=8, rl_steps=2)
        print(json.dumps(train(args.out_dir, recipe), indent=2))
    elif args.command == "benchmark":
        args.path.write_text("".join(json.dumps(record) + "\n" for record in benchmark_records()))
    elif args.command == "table":
        headline = next((d for d in args.rast if rast_alpha(d) == 1.0), args.rast[0])
        print(examples({"base": args.base, "small RL": args.small_rl, f"RAST {rast_alpha(headline):g}": headline}))
        print(paper_table(args.base, args.small_rl, args.rast, args.rl_base))
    else:
        print(json.dumps(toy_model_paths(), indent=2))


if __name__ == "__main__":
    main()
