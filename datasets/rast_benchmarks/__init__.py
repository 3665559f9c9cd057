"""Benchmark registry, loaders and prompt templates for RAST evaluation."""

from rast_benchmarks.loading import load_benchmark
from rast_benchmarks.prompts import DEFAULT_TEMPLATE, PROMPT_TEMPLATES, build_prompt
from rast_benchmarks.records import gold_answer, question_text, record_shape
from rast_benchmarks.registry import ALIASES, BENCHMARKS, BenchmarkSpec, RecordShape, canonical_name, get_spec

__all__ = [
    "ALIASES",
    "BENCHMARKS",
    "DEFAULT_TEMPLATE",
    "PROMPT_TEMPLATES",
    "BenchmarkSpec",
    "RecordShape",
    "build_prompt",
    "canonical_name",
    "get_spec",
    "gold_answer",
    "load_benchmark",
    "question_text",
    "record_shape",
]
