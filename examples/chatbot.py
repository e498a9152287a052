"""A multi-turn chat in the terminal; an empty line (or end of input) quits."""

import lmstudio_sync as lms

model = lms.llm("llama-3.2-1b-instruct")
chat = lms.Chat("You are a task focused AI assistant")

while True:
    try:
        user_input = input("You (leave blank to exit): ")
    except EOFError:
        print()
        break
    if not user_input:
        break
    chat.add_user_message(user_input)
    # on_message=chat.append records the reply, so the next turn sees it.
    stream = model.respond_stream(chat, on_message=chat.append)
    print("Bot: ", end="", flush=True)
    for fragment in stream:
        print(fragment.content, end="", flush=True)
    print()

print(f"({len(chat)} messages in the conversation)")
