"""Watch a model load."""

import lmstudio_sync as lms


def show(progress: float) -> None:
    print(f"{progress * 100:5.1f}% loaded")


with lms.Client() as client:
    llama = client.llm.load_new_instance("llama-3.2-1b-instruct", on_progress=show)
    print("Loaded", llama.identifier)
