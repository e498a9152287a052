"""Two copies of one model side by side, then unloaded by identifier (no handles needed)."""

import lmstudio_sync as lms

with lms.Client() as client:
    llama = client.llm.load_new_instance("llama-3.2-1b-instruct")
    another_llama = client.llm.load_new_instance("llama-3.2-1b-instruct", "second-llama")
    print("Loaded:", [m.identifier for m in client.llm.list_loaded()])
    print(llama.identifier, "says:", llama.respond("Hello!", config={"maxTokens": 10}))
    print(
        another_llama.identifier, "says:", another_llama.respond("Hello!", config={"maxTokens": 10})
    )

    client.llm.unload(llama.identifier)
    client.llm.unload("second-llama")
    print("Loaded after unloading:", [m.identifier for m in client.llm.list_loaded()])
