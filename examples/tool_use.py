"""Tool use: let the model call Python functions with ``act()``, or get its tool calls back
unexecuted (``respond(tools=...)``) to run them yourself, as agent frameworks do."""

import asyncio
import json

from lmstudio_async import AsyncClient, Chat, ToolCallResultData
from lmstudio_async.protocol import ToolCallRequestPart


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def exchange_rate(currency: str) -> float:
    """How many euros one unit of a currency buys."""
    await asyncio.sleep(0.01)  # e.g. an HTTP request
    return {"USD": 0.92, "GBP": 1.17}.get(currency.upper(), 1.0)


WEATHER = {  # an OpenAI-style definition: no implementation, the app answers
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def show(message: object) -> None:
    for part in getattr(message, "content", []):
        if isinstance(part, ToolCallRequestPart):
            call = part.tool_call_request
            print(f"Tool call: {call.name}({call.arguments})")
        elif isinstance(part, ToolCallResultData):
            print(f"Tool result: {part.content}")


async def main() -> None:
    async with AsyncClient() as client:
        llm = await client.llm.model("llama-3.2-1b-instruct")

        # 1. act(): the SDK runs the tools the model asks for, round after round.
        chat = Chat("You are a helpful assistant with tools.")
        chat.add_user_message(
            'What is add({"a": 1234, "b": 4321})? And exchange_rate({"currency": "USD"})?'
        )
        result = await llm.act(
            chat,
            [add, exchange_rate],
            max_parallel_tool_calls=2,
            on_message=lambda message: (chat.append(message), show(message)),
        )
        print(f"Answer: {chat.messages[-1].content[0].text[:60]}...")
        print(f"Rounds: {result.rounds}")

        # 2. Tool calls without execution: the result carries the requests.
        chat = Chat()
        chat.add_user_message('weather {"city": "Oslo"}')
        reply = await llm.respond(chat, tools=[WEATHER], on_message=chat.append)
        for request in reply.tool_call_requests:
            print(f"Requested: {request.name}({request.arguments})")
            forecast = {"city": request.arguments["city"], "sky": "clear"}
            chat.add_tool_result(
                ToolCallResultData(content=json.dumps(forecast), tool_call_id=request.id)
            )
        final = await llm.respond(chat, tools=[WEATHER])
        print(f"Final: {final.content[:60]}...")


asyncio.run(main())
