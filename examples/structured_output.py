"""Ask for JSON matching a schema and get a typed object back."""

import msgspec

import lmstudio_sync as lms


class Book(msgspec.Struct):
    title: str
    author: str
    year: int


model = lms.llm("llama-3.2-1b-instruct")
result = model.respond("Recommend a classic novel.", response_format=Book)
book = result.parsed
print(f"{book.title} by {book.author} ({book.year})")
