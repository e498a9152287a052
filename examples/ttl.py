"""Models loaded with a TTL unload themselves once idle that long."""

import time

import lmstudio_sync as lms

with lms.Client() as client:
    # A TTL given to model() only applies if model() actually loads the model.
    llama = client.llm.model("llama-3.2-1b-instruct", ttl=3600)
    short_lived = client.llm.load_new_instance("qwen2.5-7b-instruct", ttl=1)
    print("TTL of", llama.identifier, "in ms:", llama.get_info().ttl_ms)
    print("TTL of", short_lived.identifier, "in ms:", short_lived.get_info().ttl_ms)

    time.sleep(2)
    print("Still loaded after 2 s:", [m.identifier for m in client.llm.list_loaded()])
