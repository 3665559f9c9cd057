"""Methods vLLM mixes into every worker (``worker_extension_cls``), reached through ``LLM.collective_rpc``."""


class RastWorkerExtension:
    """Lets the driver change the pair weights of the loaded ``RastForCausalLM`` without reloading it."""

    def rast_set_alphas(self, alphas: list[float]) -> None:
        self.model_runner.get_model().set_alphas(alphas)
