"""Cold start: ``import core.llms`` + ``create_llm`` load neither aiohttp nor pydantic and touch no
network; the first call loads aiohttp and still maps every transport failure to the error tree."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.util import find_spec

from core.llms.providers.base.pydantic_compat import is_pydantic_model_class

#: loaded by a call that needs them (aiohttp: the first call; pydantic: a caller's model class;
#: the media result classes: a media call), never by import + create.
HEAVY = (
    "aiohttp",
    "pydantic",
    "pydantic_core",
    "yarl",
    "multidict",
    "core.llms.interfaces.media",
    # the media methods' code and the Responses API: loaded by such a call only
    "core.llms.providers.openai.media",
    "core.llms.providers.openai.media.images",
    "core.llms.providers.openai.media.speech",
    "core.llms.providers.openai.media.transcription",
    "core.llms.providers.openai.media.video",
    "core.llms.providers.openai.media.embeddings",
    "core.llms.providers.dialects.openai_responses",
    "core.llms.providers.base.multipart",
    "core.llms.providers.base.raw_stream",
)
#: loaded only to read entry points, i.e. when an installed distribution declares a plugin.
DISCOVERY = ("importlib.metadata", "email")

IMPORT_AND_CREATE = f"""
import socket, sys

def refuse(*args, **kwargs):
    raise RuntimeError("network access during import or create_llm")

socket.socket.connect = socket.socket.connect_ex = socket.create_connection = refuse
socket.getaddrinfo = refuse
import core.llms

llm = core.llms.create_llm("openai/gpt-4.1-mini", api_key="k", backups=[{{"endpoint": "https://b.example/v1"}}])
core.llms.create_llm("azure/gpt-4.1-mini", api_key="k", endpoint="https://r.example", deployment_name="d",
                     api_version="2024-10-21")
for media_model in ("openai/dall-e-3", "openai/tts-1", "openai/whisper-1", "openai/sora-2",
                    "openai/text-embedding-3-small"):
    core.llms.create_llm(media_model, api_key="k")
print(",".join(m for m in {HEAVY + DISCOVERY!r} if m in sys.modules))
print("ollama" if "core_llms_ollama" in sys.modules else "-")
"""

FIRST_CALL = """
import asyncio, sys
import core.llms

async def main():
    async def hang_up(reader, writer):  # accepts, then closes: aiohttp's ServerDisconnectedError
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    assert "aiohttp" not in sys.modules
    async with core.llms.create_llm(
        "openai/gpt-4.1-mini", api_key="k", endpoint=f"http://127.0.0.1:{port}/v1", retry={"max_retries": 0}
    ) as llm:
        try:
            await llm.get_answer("hi")
        except core.llms.LLMError as exc:
            print(type(exc).__name__, "aiohttp" in sys.modules)
    server.close()
    await server.wait_closed()

asyncio.run(main())
"""


def run(script: str, **env: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.rstrip("\n").split("\n")


def test_import_and_create_load_no_http_stack_no_pydantic_and_no_network() -> None:
    loaded, ollama = run(IMPORT_AND_CREATE)
    heavy = set(loaded.split(",")) - set(DISCOVERY) - {""}
    assert not heavy, f"import core.llms + create_llm loaded {sorted(heavy)}"
    # the Ollama plugin (installed in the test environment) is discovered, and stays light too
    assert ollama == ("ollama" if find_spec("core_llms_ollama") else "-")


def test_without_entry_point_plugins_importlib_metadata_is_not_loaded() -> None:
    loaded, ollama = run(IMPORT_AND_CREATE, CORE_LLMS_DISABLE_PLUGIN_AUTOLOAD="1")
    assert (loaded, ollama) == ("", "-")


def test_first_call_loads_aiohttp_and_maps_its_errors() -> None:
    assert run(FIRST_CALL) == ["APIConnectionError True"]


def test_pydantic_model_classes_are_recognised_without_importing_pydantic() -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        text: str

    assert is_pydantic_model_class(Answer)
    assert not is_pydantic_model_class(Answer(text="x"))
    assert not is_pydantic_model_class(dict) and not is_pydantic_model_class({"type": "json_object"})
