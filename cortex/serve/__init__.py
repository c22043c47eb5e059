"""`cortex serve`: the OpenAI Chat Completions API in front of a brain."""
