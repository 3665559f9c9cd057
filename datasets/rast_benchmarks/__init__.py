"""Benchmark registry, loaders and prompt templates for RAST evaluation."""

from rast_benchmarks.loading import load_benchmark, question_text
from rast_benchmarks.prompts import DEFAULT_TEMPLATE, PROMPT_TEMPLATES, build_prompt
from rast_benchmarks.registry import ALIASES, BENCHMARKS, BenchmarkSpec, canonical_name, get_spec

__all__ = [
    "ALIASES",
    "BENCHMARKS",
    "DEFAULT_TEMPLATE",
    "PROMPT_TEMPLATES",
    "BenchmarkSpec",
    "build_prompt",
    "canonical_name",
    "get_spec",
    "load_benchmark",
    "question_text",
]
