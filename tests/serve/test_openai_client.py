"""The official ``openai`` client against a real ``rast serve`` with the tiny models: completions (plain and
streamed) and chat, greedy tokens equal to the transformers reference, as test_server.py expects over urllib."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from serve_helpers import Server, tiny_rast_server
from test_server import ALPHA, MAX_TOKENS, PROMPTS

from rast import ModelPair
from rast.reference import ReferenceRast

GREEDY = {"max_tokens": MAX_TOKENS, "temperature": 0.0}
EXTRA = {"ignore_eos": True, "return_token_ids": True}  # vLLM's own request fields, through extra_body


@pytest.fixture(scope="module")
def server(tiny_models, tmp_path_factory) -> Iterator[Server]:
    with tiny_rast_server(tiny_models, tmp_path_factory.mktemp("openai_client"), ALPHA) as server:
        yield server


@pytest.fixture(scope="module")
def client(server: Server):
    import openai

    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", timeout=120, max_retries=0)


@pytest.fixture(scope="module")
def reference(tiny_models) -> ReferenceRast:
    return ReferenceRast(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"], ALPHA)])


@pytest.fixture(scope="module")
def tokenizer(tiny_models):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_models["base"])


def test_models_list(client) -> None:
    assert [model.id for model in client.models.list()] == ["rast-tiny"]


def test_completions_greedy_equal_reference(client, reference, tokenizer) -> None:
    answer = client.completions.create(model="rast-tiny", prompt=PROMPTS, **GREEDY, extra_body=EXTRA)
    choices = sorted(answer.choices, key=lambda c: c.index)
    expected = reference.generate([tokenizer(p)["input_ids"] for p in PROMPTS], MAX_TOKENS)
    assert [c.token_ids for c in choices] == expected  # vLLM's extra response fields, kept by the client
    assert [c.text for c in choices] == [tokenizer.decode(ids, skip_special_tokens=True) for ids in expected]
    assert [c.finish_reason for c in choices] == ["length"] * len(PROMPTS)
    assert answer.usage.completion_tokens == MAX_TOKENS * len(PROMPTS)


def test_streamed_completion_equals_the_plain_one(client) -> None:
    plain = client.completions.create(model="rast-tiny", prompt=PROMPTS[0], **GREEDY, extra_body=EXTRA)
    stream = client.completions.create(model="rast-tiny", prompt=PROMPTS[0], **GREEDY, extra_body=EXTRA, stream=True)
    chunks = list(stream)
    assert len(chunks) > 1
    assert "".join(chunk.choices[0].text for chunk in chunks if chunk.choices) == plain.choices[0].text


def test_chat_greedy_equals_reference(client, reference, tokenizer) -> None:
    answer = client.chat.completions.create(model="rast-tiny", **GREEDY, extra_body=EXTRA,
                                            messages=[{"role": "user", "content": "what is 2 + 3?"}])
    (choice,) = answer.choices
    prompt_ids = tokenizer("<|im_start|>user\nwhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n")["input_ids"]
    expected = reference.generate([prompt_ids], MAX_TOKENS)[0]
    assert choice.message.role == "assistant"
    assert choice.token_ids == expected
    # vLLM's incremental detokenizer holds back a trailing incomplete UTF-8 character
    assert choice.message.content == tokenizer.decode(expected, skip_special_tokens=True).rstrip("\ufffd")
    assert answer.usage.completion_tokens == MAX_TOKENS


def test_a_bad_request_raises_the_clients_error(client) -> None:
    import openai

    with pytest.raises(openai.BadRequestError, match="out of vocabulary"):
        client.completions.create(model="rast-tiny", prompt=[[5, 10**6]], max_tokens=2)


REQUEST_ALPHAS = [0.0, 0.5, 2.0, None]  # None: the server's --alpha


def test_each_request_gets_its_own_alpha_through_vllm_xargs(client, tiny_models, tokenizer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def complete(alpha):
        xargs = {} if alpha is None else {"vllm_xargs": {"rast_alpha": alpha}}
        answer = client.completions.create(model="rast-tiny", prompt=PROMPTS, **GREEDY, extra_body={**EXTRA, **xargs})
        return [c.token_ids for c in sorted(answer.choices, key=lambda c: c.index)]

    with ThreadPoolExecutor(len(REQUEST_ALPHAS)) as pool:  # concurrent: the alphas share the engine's batches
        answers = list(pool.map(complete, REQUEST_ALPHAS))
    prompt_ids = [tokenizer(p)["input_ids"] for p in PROMPTS]
    for alpha, tokens in zip(REQUEST_ALPHAS, answers):
        pair = ModelPair(tiny_models["positive"], tiny_models["negative"], ALPHA if alpha is None else alpha)
        assert tokens == ReferenceRast(tiny_models["base"], [pair]).generate(prompt_ids, MAX_TOKENS), alpha
    assert answers[0] != answers[-1], "alpha 0 and the server's alpha should differ somewhere"


@pytest.mark.parametrize("value, problem", [([0.5, 1.0], "has 2 values"), ("0.5", "must be a number"),
                                            (["x"], "must be a number")])
def test_a_bad_alpha_is_a_400_and_the_server_keeps_serving(client, value, problem) -> None:
    import openai

    with pytest.raises(openai.BadRequestError, match=problem) as error:
        client.completions.create(model="rast-tiny", prompt=PROMPTS[0], max_tokens=2,
                                  extra_body={"vllm_xargs": {"rast_alpha": value}})
    assert error.value.status_code == 400
    assert client.completions.create(model="rast-tiny", prompt=PROMPTS[0], max_tokens=2).choices[0].text is not None
