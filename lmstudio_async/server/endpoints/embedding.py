"""The ``embedding`` namespace (PROTOCOL.md 6.1, 6.3): model management plus embeddings."""

from __future__ import annotations

from ...protocol import EmbedStringParameter, EmbedStringResult
from ..api import CallContext, Namespace, RpcEndpoint
from .base_model import add_base_model_endpoints

__all__ = ["build_embedding_namespace"]

_DOMAIN = "embedding"


async def embed_string(ctx: CallContext, parameter: EmbedStringParameter) -> EmbedStringResult:
    models = ctx.state.models
    instance = models.find(parameter.model_specifier, _DOMAIN)
    with models.activity(instance, "computingEmbedding"):
        return EmbedStringResult(embedding=await instance.model.embed(parameter.input_string))


def build_embedding_namespace() -> Namespace:
    namespace = Namespace(_DOMAIN)
    add_base_model_endpoints(namespace)
    namespace.rpc(RpcEndpoint("embedString", embed_string, EmbedStringParameter))
    return namespace
