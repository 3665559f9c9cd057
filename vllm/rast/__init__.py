"""RAST: reasoning activation by small-model transfer, inside vLLM."""
