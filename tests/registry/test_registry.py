"""Tests of the rast_benchmarks registry, loaders and prompt templates."""

from __future__ import annotations

import json
import sys
import types
import warnings
from pathlib import Path

import pytest
from rast_benchmarks import (
    BENCHMARKS,
    PROMPT_TEMPLATES,
    RecordShape,
    build_prompt,
    canonical_name,
    gold_answer,
    load_benchmark,
    question_text,
    record_shape,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared benchmark files not found at {SHARED}")
EXPECTED_COUNTS = {
    "math500": 500,
    "aime24": 30,
    "amc23": 40,
    "minerva_math": 272,
    "olympiadbench": 675,
    "gsm8k": 1319,
}


@pytest.fixture(autouse=True)
def _no_env_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAST_DATA_DIR", raising=False)


@needs_shared
@pytest.mark.parametrize("name,count", EXPECTED_COUNTS.items())
def test_counts_via_data_dir(name: str, count: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a count mismatch warning would fail here
        records = load_benchmark(name, data_dir=str(SHARED))
    assert len(records) == count == BENCHMARKS[name].expected_count
    assert all(question_text(name, r).strip() for r in records)


@needs_shared
@pytest.mark.parametrize("name,count", EXPECTED_COUNTS.items())
def test_counts_via_env(name: str, count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAST_DATA_DIR", str(SHARED))
    assert len(load_benchmark(name)) == count


# The first record of each local copy (../shared/benchmarks): its layout and gold answer.
LOCAL_FIRST = {
    "math500": (RecordShape("problem", "answer"), "\\left( 3, \\frac{\\pi}{2} \\right)"),
    "aime24": (RecordShape("problem", "answer"), "204"),
    "amc23": (RecordShape("question", "answer"), "27"),
    "minerva_math": (RecordShape("problem", "solution", "boxed"), "1.6"),
    "olympiadbench": (RecordShape("question", "final_answer", "list"), "2"),
    "gsm8k": (RecordShape("question", "answer", "after_hashes"), "18"),
}


@needs_shared
@pytest.mark.parametrize("name", EXPECTED_COUNTS)
def test_local_copies_layout_and_gold_answers(name: str) -> None:
    records = load_benchmark(name, data_dir=str(SHARED))
    shape, first_gold = LOCAL_FIRST[name]
    assert {record_shape(name, r) for r in records} == {shape}
    assert question_text(name, records[0]) == records[0][shape.question_field]
    assert gold_answer(name, records[0]) == first_gold
    assert all(gold_answer(name, r).strip() for r in records)


# One record per public layout, as its source writes it: (benchmark, record, question, gold answer).
PUBLIC_LAYOUTS = {
    "math500 HuggingFaceH4/MATH-500": (
        "math500", {"problem": "Compute $1+1$.", "solution": "It is $\\boxed{2}$.", "answer": "2",
                    "subject": "Algebra", "level": 1, "unique_id": "test/algebra/1.json"}, "Compute $1+1$.", "2"),
    "aime24 HuggingFaceH4/aime_2024": (
        "aime24", {"id": 60, "problem": "Find $n$.", "solution": "...", "answer": "204", "url": "u", "year": 2024},
        "Find $n$.", "204"),
    "aime24 Maxwell-Jia/AIME_2024": (
        "aime24", {"ID": "2024-I-1", "Problem": "Find $n$.", "Solution": "...", "Answer": 204}, "Find $n$.", "204"),
    "aime24 question/answer copies": ("aime24", {"question": "Find $n$.", "answer": "033"}, "Find $n$.", "033"),
    "amc23 math-ai/amc23": (
        "amc23", {"id": 0, "question": "How many miles?", "answer": 27.0, "url": "u"}, "How many miles?", "27"),
    "amc23 non-integer answer": ("amc23", {"question": "q", "answer": 2.5}, "q", "2.5"),
    "minerva_math math-ai/minervamath": (
        "minerva_math", {"question": "Find the diameter in cm.", "answer": "1.6"}, "Find the diameter in cm.", "1.6"),
    "minerva_math Qwen2.5-Math copy": (
        "minerva_math", {"problem": "Find $s$.", "solution": "So $s=\\boxed{\\frac{1}{2}}$ m.", "type": "t",
                         "idx": 0}, "Find $s$.", "\\frac{1}{2}"),
    "olympiadbench math-ai/olympiadbench": (
        "olympiadbench", {"id": 1606, "question": "How many moves?", "solution": ["..."], "final_answer": ["$2$"],
                          "is_multiple_answer": False, "unit": None, "answer_type": "Numerical"},
        "How many moves?", "2"),
    "olympiadbench several answers": (
        "olympiadbench", {"question": "q", "final_answer": ["$3$", "$5$"], "is_multiple_answer": True}, "q", "3, 5"),
    "gsm8k openai/gsm8k": (
        "gsm8k", {"question": "How many clips?", "answer": "She sold 48/2 = <<48/2=24>>24.\n#### 1,024"},
        "How many clips?", "1024"),
}


@pytest.mark.parametrize("layout", PUBLIC_LAYOUTS)
def test_every_public_layout_gives_question_and_gold(layout: str) -> None:
    name, record, question, gold = PUBLIC_LAYOUTS[layout]
    assert question_text(name, record) == question
    assert gold_answer(name, record) == gold


def test_every_registered_layout_is_tested() -> None:
    tested = {(name, record_shape(name, record)) for name, record, _, _ in PUBLIC_LAYOUTS.values()}
    registered = {(name, shape) for name, spec in BENCHMARKS.items() if spec.hub_id for shape in spec.shapes}
    assert registered <= tested


def test_record_of_an_unknown_layout_names_the_known_ones() -> None:
    with pytest.raises(KeyError) as info:
        question_text("minerva_math", {"prompt": "q", "target": "1"})
    message = info.value.args[0]
    assert "minerva_math" in message and "question/answer, problem/solution" in message and "\n" not in message
    with pytest.raises(KeyError, match="has no field of a known layout"):
        gold_answer("minerva_math", {"prompt": "q"})
    with pytest.raises(KeyError, match="has no question field of a known layout"):
        question_text("minerva_math", {"solution": "\\boxed{1}"})  # a gold answer alone has no question


@pytest.mark.parametrize("name,record,gold", [
    ("minerva_math", {"solution": "so $\\boxed{\\frac{1}{2}}$"}, "\\frac{1}{2}"),
    ("gsm8k", {"answer": "#### 1,024"}, "1024"),
    ("olympiadbench", {"final_answer": ["$3$", "$5$"], "is_multiple_answer": True}, "3, 5"),
    ("aime24", {"Answer": 33}, "33"),
])
def test_a_bare_gold_answer_is_read_by_its_field(name: str, record: dict, gold: str) -> None:
    assert gold_answer(name, record) == gold


@pytest.mark.parametrize("name,record,field", [
    ("minerva_math", {"problem": "q", "solution": "no box"}, "'solution'"),
    ("gsm8k", {"question": "q", "answer": "no hashes"}, "'answer'"),
    ("olympiadbench", {"question": "q", "final_answer": []}, "'final_answer'"),
    ("math500", {"problem": "q"}, "'answer'"),
])
def test_record_without_a_gold_answer_names_the_field(name: str, record: dict, field: str) -> None:
    assert question_text(name, record) == "q"  # prompts can still be built
    with pytest.raises(ValueError, match=f"^{name}: record has no .* in its {field} field"):
        gold_answer(name, record)


@needs_shared
def test_file_order_preserved() -> None:
    first_line = (SHARED / "gsm8k" / "test.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert load_benchmark("GSM8K", data_dir=str(SHARED))[0] == json.loads(first_line)


def test_explicit_data_dir_beats_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "amc23").mkdir()
    (tmp_path / "amc23" / "test.jsonl").write_text('{"question": "q", "answer": "1"}\n')
    monkeypatch.setenv("RAST_DATA_DIR", str(tmp_path / "elsewhere"))
    with pytest.warns(UserWarning, match="loaded 1 records, expected 40"):
        records = load_benchmark("AMC", data_dir=str(tmp_path))
    assert records == [{"question": "q", "answer": "1"}]


@pytest.mark.parametrize(
    "alias,name",
    [
        ("MATH", "math500"),
        ("math", "math500"),
        ("AIME", "aime24"),
        ("AMC", "amc23"),
        ("Minerva", "minerva_math"),
        ("Olympiad", "olympiadbench"),
        ("OlympiadBench", "olympiadbench"),
        ("GSM8K", "gsm8k"),
        ("gsm8k", "gsm8k"),
        ("Math500", "math500"),
        ("MINERVA_MATH", "minerva_math"),
        ("demo", "demo"),
    ],
)
def test_aliases(alias: str, name: str) -> None:
    assert canonical_name(alias) == name


def test_unknown_name_lists_known_names() -> None:
    with pytest.raises(ValueError) as info:
        canonical_name("mmlu")
    message = str(info.value)
    assert "mmlu" in message and "\n" not in message
    for name in [*EXPECTED_COUNTS, "demo", "olympiad"]:
        assert name in message


def test_missing_file_names_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_benchmark("gsm8k", data_dir=str(tmp_path))
    message = str(info.value)
    assert str(tmp_path / "gsm8k" / "test.jsonl") in message
    assert "--data_dir" in message and "\n" not in message


def test_missing_file_via_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAST_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="math500"):
        load_benchmark("MATH")


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "aime24" / "test.jsonl"
    path.parent.mkdir()
    path.write_text('{"problem": "a"}\n\n{"problem": "b"}\n{"problem": oops}\n')
    with pytest.raises(ValueError, match=rf"{path}:4\b"):
        load_benchmark("aime24", data_dir=str(tmp_path))


def test_demo_is_bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAST_DATA_DIR", str(tmp_path))  # empty folder: demo must not look there
    records = load_benchmark("demo", data_dir=str(tmp_path))
    assert len(records) == 8
    for record in records:
        assert set(record) == {"problem", "answer"}
        assert question_text("demo", record).strip() and record["answer"].strip()
    assert len({r["problem"] for r in records}) == 8


def test_prompt_templates() -> None:
    assert PROMPT_TEMPLATES["original"] == "Question:\n{question}\nAnswer:\nLet's think step by step.\n"
    assert build_prompt("original", "1+1?") == "Question:\n1+1?\nAnswer:\nLet's think step by step.\n"
    assert build_prompt("qwen_boxed", "1+1?") == (
        "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}."
        "<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n<|im_start|>assistant\n"
    )
    assert build_prompt("Q: {question}\nA:", "x {y}") == "Q: x {y}\nA:"


@pytest.mark.parametrize("template", ["no_such_template", "Q: {q}", "{question} {other}"])
def test_bad_prompt_template(template: str) -> None:
    with pytest.raises(ValueError, match="template"):
        build_prompt(template, "q")


def test_hub_fallback_uses_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_load_dataset(hub_id: str, config: str | None, split: str) -> list[dict]:
        calls.append((hub_id, config, split))
        return [{"question": f"q{i}", "answer": "#### 1"} for i in range(1319)]

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=fake_load_dataset))
    records = load_benchmark("gsm8k")
    assert calls == [("openai/gsm8k", "main", "test")]
    assert len(records) == 1319 and records[0]["question"] == "q0"
