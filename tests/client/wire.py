"""Low-level helpers for transport tests: raw loadModel/predict/tokenize over a client's sockets.

The user-facing model and prediction APIs are tested elsewhere; the transport
tests only need enough to put real traffic on the wire.
"""

from __future__ import annotations

from lmstudio_async import AsyncClient, LlmInstanceInfo
from lmstudio_async.protocol import (
    ChatHistoryData,
    FragmentPacket,
    KVConfig,
    KVConfigStack,
    KVConfigStackLayer,
    LoadingPacket,
    LoadModelParameter,
    LoadSuccess,
    ModelQuery,
    PredictionSuccess,
    PredictPacket,
    PredictParameter,
    QuerySpecifier,
    TextPart,
    TokenizeParameter,
    TokenizeResult,
    UserMessage,
    lenient_decoder_for,
)
from lmstudio_async.transport.channel import Channel

LLM_KEY = "llama-3.2-1b-instruct"
EMBEDDING_KEY = "text-embedding-nomic-embed-text-v1.5"


def empty_stack() -> KVConfigStack:
    return KVConfigStack(
        layers=[KVConfigStackLayer(layer_name="apiOverride", config=KVConfig(fields=[]))]
    )


async def load_llm(client: AsyncClient, key: str = LLM_KEY, identifier: str | None = None) -> str:
    """Load an LLM instance; returns its identifier."""
    channel = await client._open_channel(
        "llm",
        "loadModel",
        LoadModelParameter(model_key=key, identifier=identifier, load_config_stack=empty_stack()),
        lenient_decoder_for(LoadingPacket, "llm/loadModel"),
    )
    async for packet in channel:
        if isinstance(packet, LoadSuccess):
            assert isinstance(packet.info, LlmInstanceInfo)
            return packet.info.identifier
    raise AssertionError("loadModel ended without success")


def query(identifier: str) -> QuerySpecifier:
    return QuerySpecifier(query=ModelQuery(identifier=identifier))


async def tokenize(
    client: AsyncClient, identifier: str, text: str, timeout: float | None = None
) -> list[int]:
    result = await client._call(
        "llm",
        "tokenize",
        TokenizeParameter(specifier=query(identifier), input_string=text),
        TokenizeResult,
        timeout=timeout,
    )
    return result.tokens


async def open_prediction(
    client: AsyncClient, identifier: str, prompt: str
) -> Channel[PredictPacket]:
    parameter = PredictParameter(
        model_specifier=query(identifier),
        history=ChatHistoryData(messages=[UserMessage(content=[TextPart(text=prompt)])]),
        prediction_config_stack=empty_stack(),
    )
    return await client._open_channel(
        "llm", "predict", parameter, lenient_decoder_for(PredictPacket, "llm/predict")
    )


async def predict_text(client: AsyncClient, identifier: str, prompt: str) -> str:
    """The full reply text; fails unless the channel ends with a success packet."""
    channel = await open_prediction(client, identifier, prompt)
    parts: list[str] = []
    succeeded = False
    async for packet in channel:
        if isinstance(packet, FragmentPacket):
            parts.append(packet.fragment.content)
        elif isinstance(packet, PredictionSuccess):
            succeeded = True
    assert succeeded, "prediction channel closed without success"
    return "".join(parts)
