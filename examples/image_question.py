"""Ask a vision model about an image (pass a path, or it uses sunflower.png beside this script)."""

import sys
from pathlib import Path

import lmstudio_sync as lms

image_path = sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("sunflower.png")

with lms.Client() as client:
    image = client.files.prepare_image(image_path)
    print(f"Uploaded {image.name} ({image.size_bytes} bytes, {image.file_type})")
    model = client.llm.model("qwen2-vl-2b-instruct")
    chat = lms.Chat()
    chat.add_user_message("What is in this image?", images=[image])
    print("Model:", model.respond(chat).content)
