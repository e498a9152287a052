"""Embed texts and find which two are most alike."""

import itertools
import math

import lmstudio_sync as lms

texts = ["The cat sat on the mat.", "A kitten rested on the rug.", "Stock markets fell today."]
model = lms.embedding_model("text-embedding-nomic-embed-text-v1.5")
vectors = model.embed(texts)


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (math.hypot(*a) * math.hypot(*b))


best = max(
    itertools.combinations(range(len(texts)), 2), key=lambda p: cosine(vectors[p[0]], vectors[p[1]])
)
print(f"{len(vectors)} vectors of {len(vectors[0])} dimensions")
print("Most alike:", texts[best[0]], "/", texts[best[1]])
