"""A real ``rast serve`` on 127.0.0.1 with the tiny models: OpenAI completions and chat, greedy tokens equal to the
transformers reference (proven equal to the offline engine in tests/engine), clean shutdown.

The tests share one server (starting one costs ~20-60 s on a small CPU) and run in file order: the last one stops it.
"""


import pytest
from serve_helpers import CHAT_TEMPLATE, SERVER_SETTINGS, Server

from rast import ModelPair
from rast.reference import ReferenceRast

ALPHA = 1.0
MAX_TOKENS = 16
PROMPTS = ["Question:\nwhat is 2 + 3?\nAnswer:\n", "circle area radius square", "x"]


@pytest.fixture(scope="module")
def server(tiny_models, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    template = folder / "chat_template.jinja"
    template.write_text(CHAT_TEMPLATE)
    args = ["--base", tiny_models["base"], "--positive", tiny_models["positive"], "--negative", tiny_models["negative"],
            "--alpha", str(ALPHA), "--", *SERVER_SETTINGS, "--served-model-name", "rast-tiny",
            "--chat-template", str(template)]
    server = Server(args, folder / "server.log")
    try:
        server.startup_s = server.wait_healthy()
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def reference(tiny_models):
    return ReferenceRast(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"], ALPHA)])


def test_prints_the_equivalent_vllm_command(server):
    log = server.log_path.read_text(errors="replace")
    assert "vllm serve " + server_base(log) in log
    assert "Resolved architecture: RastForCausalLM" in log, server.fail_message("vLLM did not load the RAST model")


def server_base(log: str) -> str:
    line = next(line for line in log.splitlines() if line.strip().startswith("vllm serve "))
    return line.split()[2]


def test_models_endpoint(server):
    import json
    import urllib.request

    with urllib.request.urlopen(server.url + "/v1/models", timeout=30) as response:
        models = json.loads(response.read())
    assert [m["id"] for m in models["data"]] == ["rast-tiny"]


def test_completions_greedy_equal_reference(server, reference, tiny_models):
    from transformers import AutoTokenizer

    answer = server.post("/v1/completions", {
        "model": "rast-tiny", "prompt": PROMPTS, "max_tokens": MAX_TOKENS, "temperature": 0.0,
        "ignore_eos": True, "return_token_ids": True,
    })
    choices = sorted(answer["choices"], key=lambda c: c["index"])
    assert len(choices) == len(PROMPTS)
    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    prompt_ids = [tokenizer(p)["input_ids"] for p in PROMPTS]
    assert [c["prompt_token_ids"] for c in choices] == prompt_ids
    expected = reference.generate(prompt_ids, MAX_TOKENS)
    assert [c["token_ids"] for c in choices] == expected
    for choice, ids in zip(choices, expected):
        assert choice["finish_reason"] == "length"
        assert choice["text"] == tokenizer.decode(ids, skip_special_tokens=True)
    assert answer["usage"]["completion_tokens"] == MAX_TOKENS * len(PROMPTS)
    # and the small pair matters: the base model alone continues differently
    assert ReferenceRast(tiny_models["base"]).generate(prompt_ids, MAX_TOKENS) != expected


def test_chat_completions(server, reference, tiny_models):
    from transformers import AutoTokenizer

    answer = server.post("/v1/chat/completions", {
        "model": "rast-tiny", "messages": [{"role": "user", "content": "what is 2 + 3?"}],
        "max_tokens": MAX_TOKENS, "temperature": 0.0, "ignore_eos": True, "return_token_ids": True,
    })
    assert answer["object"] == "chat.completion"
    (choice,) = answer["choices"]
    assert choice["message"]["role"] == "assistant"
    assert isinstance(choice["message"]["content"], str) and choice["message"]["content"]
    assert choice["finish_reason"] == "length"
    assert answer["usage"]["completion_tokens"] == MAX_TOKENS
    # the chat prompt is the template applied to the messages, and its greedy continuation is RAST's too
    prompt = "<|im_start|>user\nwhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n"
    prompt_ids = AutoTokenizer.from_pretrained(tiny_models["base"])(prompt)["input_ids"]
    assert answer["prompt_token_ids"] == prompt_ids
    assert choice["token_ids"] == reference.generate([prompt_ids], MAX_TOKENS)[0]


def test_shutdown_is_clean(server):
    """Runs last: SIGTERM stops the server and every process it started within the time limit."""
    code, seconds, leftovers = server.stop()
    assert code is not None, server.fail_message("server still running 30 s after SIGTERM")
    assert code == 0, server.fail_message(f"server exited with {code} after SIGTERM")
    assert leftovers == [], server.fail_message(f"processes left behind: {leftovers}")
    print(f"server healthy after {server.startup_s:.1f} s, stopped in {seconds:.1f} s with exit code {code}")
