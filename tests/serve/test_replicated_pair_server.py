"""``rast serve`` at tensor parallel 2, the pair replicated on each rank: it says so, and answers as the reference."""

import pytest
from serve_helpers import tiny_rast_server
from test_server import ALPHA, check_greedy_equals_reference

from rast import ModelPair
from rast.reference import ReferenceRast


@pytest.fixture(scope="module")
def server(tiny_models, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VLLM_CPU_OMP_THREADS_BIND", "0|1")  # one core per rank
        with tiny_rast_server(tiny_models, tmp_path_factory.mktemp("serve_replicated"), ALPHA,
                              rast_args=["--small-tensor-parallel-size", "1"],
                              vllm_args=["--tensor-parallel-size", "2"]) as server:
            yield server


def test_the_start_up_block_names_the_replicated_pair(server):
    log = server.log_path.read_text(errors="replace")
    assert "tensor parallel 2" in log
    assert sum("a copy on every rank" in line for line in log.splitlines() if "_0 " in line) == 2, \
        server.fail_message("positive_0 and negative_0 should be replicated")


def test_greedy_completions_equal_the_reference(server, tiny_models):
    reference = ReferenceRast(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"], ALPHA)])
    check_greedy_equals_reference(server, reference, tiny_models)
