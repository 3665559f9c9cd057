"""A real ``rast serve`` on 127.0.0.1 with the tiny models: OpenAI completions and chat, greedy tokens equal to the
transformers reference (proven equal to the offline engine in tests/engine), clean shutdown.

The tests share one server (starting one costs ~20-60 s on a small CPU) and run in file order: the last one stops it.
"""


import pytest
from serve_helpers import tiny_rast_server

from rast import ModelPair
from rast.reference import ReferenceRast

ALPHA = 1.0
MAX_TOKENS = 16
PROMPTS = ["Question:\nwhat is 2 + 3?\nAnswer:\n", "circle area radius square", "x"]


@pytest.fixture(scope="module")
def server(tiny_models, tmp_path_factory):
    with tiny_rast_server(tiny_models, tmp_path_factory.mktemp("serve"), ALPHA) as server:
        yield server


@pytest.fixture(scope="module")
def reference(tiny_models):
    return ReferenceRast(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"], ALPHA)])


def test_prints_the_equivalent_vllm_command(server):
    log = server.log_path.read_text(errors="replace")
    assert "vllm serve " + server_base(log) in log
    assert "Resolved architecture: RastForCausalLM" in log, server.fail_message("vLLM did not load the RAST model")
    assert "RAST: z = base + sum_i alpha_i * (positive_i - negative_i), alphas [1.0], shared vocabulary 576" in log
    assert "positive_0" in log and "negative_0" in log  # one line per sub-model in the start-up block


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
    check_greedy_equals_reference(server, reference, tiny_models)


def check_greedy_equals_reference(server, reference, tiny_models) -> None:
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


def test_an_id_a_small_model_cannot_embed_is_a_400_and_the_server_keeps_serving(server, reference, tiny_models):
    from transformers import AutoConfig

    small_rows = AutoConfig.from_pretrained(tiny_models["positive"]).vocab_size
    for ids in ([5, small_rows], [AutoConfig.from_pretrained(tiny_models["base"]).vocab_size - 1]):
        status, body = request(server, "POST", "/v1/completions",
                               {"model": "rast-tiny", "prompt": ids, "max_tokens": 4, "temperature": 0.0})
        assert status == 400 and b"out of vocabulary" in body, (status, body[:500])
    check_greedy_equals_reference(server, reference, tiny_models)


def test_many_seeded_samples(server):
    """n=32 seeded samples of 16 prompts: more tokens than one step takes (a split prefill killed the CPU engine)."""
    answer = server.post("/v1/completions", {"model": "rast-tiny", "prompt": [p * 6 for p in PROMPTS] * 5 + ["x"],
                                             "n": 32, "seed": 1, "max_tokens": 2, "temperature": 1.0})
    assert len(answer["choices"]) == 16 * 32


def test_fuzzed_requests_each_get_a_client_error_and_the_server_stays_exact(server, reference, tiny_models):
    """Several hundred malformed, random and boundary requests (bounded in count and time): each is answered with a
    status below 500 and a message; then a normal greedy request is still exactly the reference's."""
    import random
    import time

    deadline = time.monotonic() + 300
    answered = []
    for method, path, body in fuzz_requests(random.Random(0), count=300):
        if time.monotonic() > deadline:
            break
        status, reply = request(server, method, path, body)
        assert status < 500 and reply, server.fail_message(f"{method} {path} {body!r:.300} -> {status} {reply[:300]!r}")
        answered.append(status)
    for _ in range(8):
        disconnect_while_streaming(server)
    assert len(answered) >= 250, f"only {len(answered)} fuzz requests in the time limit"
    assert sum(status >= 400 for status in answered) >= 200, "the fuzz requests should be mostly invalid"
    check_greedy_equals_reference(server, reference, tiny_models)


def request(server, method: str, path: str, body, timeout: float = 60.0) -> tuple[int, bytes]:
    """One HTTP request (a dict is sent as JSON, bytes as they are); the status and body of the answer."""
    import http.client
    import json

    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def disconnect_while_streaming(server) -> None:
    """A streaming client that reads the first bytes of its answer, then goes away."""
    import json
    import socket

    body = json.dumps({"model": "rast-tiny", "prompt": "x", "max_tokens": 200, "stream": True, "ignore_eos": True})
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
        assert sock.recv(256).startswith(b"HTTP/1.1 200")


VALID = {"model": "rast-tiny", "prompt": "x", "max_tokens": 4, "temperature": 0.0}
ODD_VALUES = [None, -1, 0, 1, 2**63, -2**63, 10**30, 1e308, -1e308, 0.5, "", "x", "nan", [], {}, True, [1, 2],
              [[]], {"a": 1}, "9" * 400]
FIELDS = ["prompt", "max_tokens", "temperature", "top_p", "top_k", "n", "seed", "stop", "logprobs", "min_tokens",
          "presence_penalty", "repetition_penalty", "logit_bias", "stream", "echo", "vllm_xargs", "model",
          "stop_token_ids", "min_p", "truncate_prompt_tokens"]
ODD_PROMPTS = [[-1], [576], [639], [640], [2**31], [10**20], [], [[]], [[1, 2], [576]], [0] * 600, [1.5], ["a"],
               "x" * 5000]
RAW_BODIES = [b"", b"{", b"not json", b"[]", b"null", b'{"prompt": "x"', b"\xff\xfe\x00", b"[" * 50000,
              b'{"model": "rast-tiny", "prompt": "x", "max_tokens": 1e999}']
ODD_MESSAGES = ["x", [], [{"role": 5}], [{"role": "user"}], [{"role": "user", "content": [{"type": "bogus"}]}],
                [{"role": "nobody", "content": "x"}], None]


def fuzz_requests(rng, count: int):
    """``count`` (method, path, body) requests, mostly invalid, a few valid: raw bodies, odd fields, odd prompts,
    odd chat messages, wrong methods and paths."""
    fixed = [("POST", "/v1/completions", raw) for raw in RAW_BODIES]
    fixed += [("POST", "/v1/completions", {**VALID, "prompt": prompt}) for prompt in ODD_PROMPTS]
    fixed += [("POST", "/v1/chat/completions", {"model": "rast-tiny", "messages": m, "max_tokens": 2})
              for m in ODD_MESSAGES]
    fixed += [("GET", "/v1/completions", None), ("DELETE", "/v1/models", None), ("POST", "/v1/nowhere", VALID),
              ("POST", "/tokenize", {"model": "rast-tiny", "prompt": 5}), ("POST", "/v1/completions", VALID)]
    yield from fixed
    for _ in range(count - len(fixed)):
        body = dict(VALID)
        for field in rng.sample(FIELDS, rng.randint(1, 3)):
            body[field] = rng.choice(ODD_VALUES)
        yield "POST", rng.choice(["/v1/completions", "/v1/chat/completions"]), body


def test_shutdown_is_clean(server):
    """Runs last: SIGTERM stops the server and every process it started within the time limit."""
    code, seconds, leftovers = server.stop()
    assert code is not None, server.fail_message("server still running 30 s after SIGTERM")
    assert code == 0, server.fail_message(f"server exited with {code} after SIGTERM")
    assert leftovers == [], server.fail_message(f"processes left behind: {leftovers}")
    print(f"server healthy after {server.startup_s:.1f} s, stopped in {seconds:.1f} s with exit code {code}")
