"""Prompts, engine settings and a greedy-decoding helper shared by the engine tests."""

ENGINE_SETTINGS = dict(dtype="float32", seed=0, max_model_len=512, enforce_eager=True)
PROMPT_TEXTS = [
    "x",
    "a b c",
    "hello",
    "circle area radius square miles hours minutes percent dollars triangle",
    "The answer is \\boxed{12} because the total of apples",
    "Let's think step by step. 17 * 23 = ",
    "Question:\nwhat is 2 + 3?\nAnswer:\n",
    "Question:\nHow many books are there if each of 7 shelves holds 12 books?\nAnswer:\nLet's think step by step.\n",
]
NEW_TOKENS = 32


def greedy_tokens(llm, prompt_ids: list[list[int]], max_tokens: int = NEW_TOKENS) -> list[list[int]]:
    """Greedy continuations from a vLLM ``LLM`` or ``RastLLM`` (EOS ignored, so every one is max_tokens long)."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    params = SamplingParams(temperature=0.0, max_tokens=max_tokens, ignore_eos=True)
    outputs = llm.generate([TokensPrompt(prompt_token_ids=ids) for ids in prompt_ids], params, use_tqdm=False)
    return [list(output.outputs[0].token_ids) for output in outputs]
