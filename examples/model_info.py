"""What the server knows about a loaded model."""

import lmstudio_sync as lms

model = lms.llm("qwen2.5-7b-instruct-1m")
info = model.get_info()
print(info)
print(
    f"{info.display_name}: {info.params_string} parameters, context {info.context_length}"
    f" of at most {info.max_context_length} tokens, {info.size_bytes / 1e9:.1f} GB on disk"
)
print("Load config:", model.get_load_config())
