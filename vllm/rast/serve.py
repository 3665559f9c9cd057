"""``rast serve``: vLLM's own OpenAI-compatible server, running the RAST composite model.

It builds the ``hf_overrides`` from friendly flags, validates them (models exist, tokenizers agree, alphas are
numbers) and checks that the port is free, all before any model work, then *replaces itself* (``os.execv``) with::

    python -m vllm.entrypoints.openai.api_server --model BASE --hf-overrides '<json>' \\
        --worker-extension-cls rast.worker_extension.RastWorkerExtension \\
        --logits-processors rast.request_alpha:RequestAlphaN --host HOST --port PORT [extra args]

so the process that runs is exactly vLLM's server; the ``rast`` plugin (a ``vllm.general_plugins`` entry point)
registers ``RastForCausalLM`` in it and in every process it starts. The equivalent ``vllm serve`` command is
printed first, for users who prefer to run vLLM themselves.

Errors are one line ``error: ...`` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import sys
from collections.abc import Sequence

from rast.api import WORKER_EXTENSION, platform_engine_kwargs, rast_config, with_layout
from rast.cli import OneLineParser, UsageError
from rast.config import MAX_PAIRS, RastConfig, RastConfigError
from rast.request_alpha import EXTRA_ARG, V1_RUNNER_FIX, processor_path

SERVER_MODULE = "vllm.entrypoints.openai.api_server"
# Flags that ``rast serve`` sets itself: giving them again after ``--`` would silently override (or break) them.
_RESERVED = {"--model": "the base model is --base", "--host": "use rast's --host", "--port": "use rast's --port",
             "--hf-overrides": "rast builds them from --positive/--negative/--alpha",
             "--worker-extension-cls": "rast needs its own worker extension",
             "--logits-processors": "rast sets its own, which carries each request's alpha"}
# the per-request alpha, shown in --help
REQUEST_ALPHA_HELP = f"""\
alpha per request: a request may carry its own alphas in vLLM's "vllm_xargs" (one number for every pair, or a list,
one per pair); requests without it use --alpha. Bad values get HTTP 400 for that request alone.
  curl http://127.0.0.1:8000/v1/completions -H 'Content-Type: application/json' \\
    -d '{{"model": "BASE", "prompt": "2 + 3 =", "max_tokens": 16, "vllm_xargs": {{"{EXTRA_ARG}": 0.5}}}}'
  openai.OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="unused").completions.create(
    model="BASE", prompt="2 + 3 =", max_tokens=16, extra_body={{"vllm_xargs": {{"{EXTRA_ARG}": [0.5]}}}})
It is exact on vLLM's V1 model runner (CPU; on GPU set {V1_RUNNER_FIX} in the environment);
it cannot be combined with prompt_logprobs."""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="rast serve", unknown_hint="vLLM's own flags go after `--`",
        description="Serve RAST (base + sum_i alpha_i * (positive_i - negative_i)) through vLLM's OpenAI-compatible "
                    "server. Anything after `--` goes to vLLM unchanged "
                    "(e.g. -- --dtype float32 --max-model-len 4096).",
        epilog=REQUEST_ALPHA_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--base", required=True, help="base model: checkpoint directory or hub id")
    for index in range(MAX_PAIRS):
        suffix = str(index) if index else ""
        label = f"pair {index}" + (" (the common single pair)" if not index else "")
        parser.add_argument(f"--positive{suffix}", help=f"{label}: the RL-tuned small model")
        parser.add_argument(f"--negative{suffix}", help=f"{label}: the same small model before RL")
        parser.add_argument(f"--alpha{suffix}", type=str, default=None,
                            help="weight of pair 0 (default 1.0)" if not index
                            else f"weight of pair {index} (default: --alpha)")
    parser.add_argument("--small-tensor-parallel-size", type=int, default=None,
                        help="tensor-parallel size of every pair: 1 (a copy on every GPU, no all-reduce) or the "
                             "engine's --tensor-parallel-size; default: the engine's where the heads split, else 1")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--dry-run", action="store_true", help="validate and print the vLLM command, start nothing")
    return parser


def split_extra(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split ``argv`` at the first ``--``: rast's own flags, then vLLM's extra arguments."""
    argv = list(argv)
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1:]
    return argv, []


def check_extra(extra: Sequence[str]) -> None:
    for arg in extra:
        flag = arg.split("=", 1)[0]
        if flag in _RESERVED:
            raise UsageError(f"{flag} after `--` is set by rast serve itself ({_RESERVED[flag]})")


def config_from_args(args: argparse.Namespace) -> RastConfig | None:
    """Validate the models and alphas (no model work): ``None`` means the base model alone."""
    positives, negatives, alphas = [], [], []
    default_alpha = args.alpha if args.alpha is not None else 1.0
    for index in range(MAX_PAIRS):
        suffix = str(index) if index else ""
        positive, negative, alpha = (getattr(args, f"{name}{suffix}") for name in ("positive", "negative", "alpha"))
        if positive is None and negative is None and alpha is not None and index:
            raise UsageError(f"--alpha{suffix} given but no --positive{suffix}/--negative{suffix} pair")
        positives.append(positive)
        negatives.append(negative)
        alphas.append(alpha if alpha is not None else default_alpha)
    return rast_config(args.base, positives, negatives, alphas)  # alphas arrive as text: checked there


def extra_value(extra: Sequence[str], *flags: str) -> str | None:
    """The value given to any of ``flags`` in vLLM's extra arguments (``--flag V`` or ``--flag=V``), else ``None``."""
    value = None
    for index, arg in enumerate(extra):
        name, equals, inline = arg.partition("=")
        if name in flags:
            value = inline if equals else (extra[index + 1] if index + 1 < len(extra) else None)
    return value


def check_extra_layout(base: str, config: RastConfig | None, extra: Sequence[str],
                       small_tensor_parallel_size: int | None = None) -> RastConfig | None:
    """Every model fits the tensor-parallel size and context length given to vLLM (checked before it starts); the
    config with each pair's tensor-parallel size (see :func:`rast.api.with_layout`)."""
    tensor_parallel, max_len = (extra_value(extra, "--tensor-parallel-size", "-tp"),
                                extra_value(extra, "--max-model-len"))
    try:
        tensor_parallel_size = int(tensor_parallel or 1)
        max_model_len = int(max_len) if max_len else None
    except ValueError:
        raise UsageError("--tensor-parallel-size and --max-model-len after `--` take integers") from None
    return with_layout(base, config, tensor_parallel_size, max_model_len, small_tensor_parallel_size)


def check_port_free(host: str, port: int) -> None:
    """Fail with a one-line fix unless ``host:port`` can be bound (same socket options as vLLM's server)."""
    if not 0 < port < 65536:
        raise UsageError(f"--port {port} is not a valid port (1-65535)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            reason = "is already in use" if error.errno in (98, 48, 10048) else f"cannot be bound ({error.strerror})"
            raise UsageError(f"port {port} on {host} {reason}: stop the process using it, or pick another with "
                             "--port") from None


def check_plugin_installed() -> None:
    """vLLM finds ``RastForCausalLM`` only through the installed ``rast`` plugin, in every process it starts."""
    from importlib.metadata import entry_points

    if not any(ep.name == "rast" for ep in entry_points(group="vllm.general_plugins")):
        raise UsageError("the rast vLLM plugin is not installed in this environment: run `pip install -e vllm`")
    allowed = os.environ.get("VLLM_PLUGINS")
    if allowed is not None and "rast" not in allowed.split(","):
        raise UsageError(f"VLLM_PLUGINS={allowed!r} leaves out the rast plugin: add rast to it or unset it")


def vllm_args(base: str, config: RastConfig | None, host: str, port: int, extra: Sequence[str]) -> list[str]:
    """The vLLM server arguments that serve ``config`` on top of ``base`` (without the program name)."""
    args = ["--model", base]
    if config is not None:
        args += ["--hf-overrides", json.dumps(config.hf_overrides(), separators=(",", ":")),
                 "--worker-extension-cls", WORKER_EXTENSION, "--logits-processors", processor_path(len(config.pairs))]
    return args + [*platform_flags(extra), "--host", host, "--port", str(port), *extra]


def platform_flags(extra: Sequence[str]) -> list[str]:
    """:func:`rast.api.platform_engine_kwargs` as vLLM flags, except those the user set in ``extra``."""
    given = {arg.split("=", 1)[0].replace("--no-", "--", 1) for arg in extra}
    flags = []
    for key, value in platform_engine_kwargs().items():
        flag = "--" + key.replace("_", "-")
        if flag not in given:
            flags.append(flag if value else flag.replace("--", "--no-", 1))
    return flags


def plain_command(args: Sequence[str]) -> str:
    """The same server as a ``vllm serve`` command line (the model is positional there)."""
    assert args[0] == "--model"
    return shlex.join(["vllm", "serve", args[1], *args[2:]])


def main(argv: Sequence[str] | None = None) -> int:
    own, extra = split_extra(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(own)
        check_extra(extra)
        check_port_free(args.host, args.port)
        check_plugin_installed()
        config = config_from_args(args)
        config = check_extra_layout(args.base, config, extra, args.small_tensor_parallel_size)
    except (UsageError, RastConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    server_args = vllm_args(args.base, config, args.host, args.port, extra)
    what = "the base model alone (no pairs given)" if config is None else \
        f"RAST with {len(config.pairs)} pair(s), alpha {config.alphas}"
    print(f"rast serve: {what} on http://{args.host}:{args.port}\nequivalent command:\n  {plain_command(server_args)}",
          flush=True)
    if args.dry_run:
        return 0
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", SERVER_MODULE, *server_args])
    return 0  # not reached
