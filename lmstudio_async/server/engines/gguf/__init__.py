"""GGUF files: header reading, model records, the models-directory catalog."""
