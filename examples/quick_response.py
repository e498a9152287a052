"""Ask any loaded model (or a given one) a question and print the answer."""

import lmstudio_sync as lms

model = lms.llm("llama-3.2-1b-instruct")
print(model.respond("What is the meaning of life?"))
