"""Print a reply as it is generated, then its statistics."""

import lmstudio_sync as lms

model = lms.llm("llama-3.2-1b-instruct")
stream = model.respond_stream("What is the meaning of life?", config={"maxTokens": 100})
for fragment in stream:
    print(fragment.content, end="", flush=True)
print()

result = stream.result()
print("Model used:", result.model_info.display_name)
print("Predicted tokens:", result.stats.predicted_tokens_count)
print(f"Time to first token: {result.stats.time_to_first_token_sec or 0:.3f} s")
print("Stop reason:", result.stats.stop_reason)
