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
    "core.llms.providers.base.media_jobs",
    # AWS Bedrock: botocore (the optional ``bedrock`` extra) is imported by the first SigV4
    # request's credentials (in a worker thread) or the first event stream, never by import + create
    "boto3",
    "botocore",
    "core.llms.providers.base.eventstream",
    "core.llms.providers.bedrock.signing",
    "core.llms.providers.bedrock.media",
    "core.llms.providers.bedrock.anthropic_invoke",
    # the other native dialects' media and Cohere's embed/rerank: loaded by such a call only
    "core.llms.providers.gemini.media",
    "core.llms.providers.cohere.embed",
    "core.llms.providers.cohere.rerank",
    # the layers on top of the models: loaded when used
    "core.llms.client",
    "core.llms.client.client",
    "core.llms.client.sync",
    "core.llms.budget",
    "core.llms.prompt",
    "core.llms.compat",
)
#: loaded only to read entry points, i.e. when an installed distribution declares a plugin.
DISCOVERY = ("importlib.metadata", "email")
#: google-auth (the optional ``vertex`` extra) and its HTTP stack: loaded by a Vertex AI call that
#: needs Google credentials, never by import + create, another provider or a Gemini API key.
GOOGLE_AUTH = ("google.auth", "google.oauth2", "google.auth.transport.requests", "requests")

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
core.llms.create_llm("bedrock/claude-sonnet-4", region="us-east-1", backups=[{{"region": "us-west-2"}}],
                     role_arn="arn:aws:iam::123456789012:role/r")
core.llms.create_llm("bedrock/nova-pro", region="eu-west-1", bedrock_api_key="k" * 20)
core.llms.create_llm("bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0", region="us-east-1", profile="p")
for media_model in ("bedrock/titan-embed-text-v2", "bedrock/nova-canvas", "bedrock/nova-reel"):
    core.llms.create_llm(media_model, region="us-east-1")
core.llms.create_llm("gemini/gemini-2.5-flash", api_key="k")
core.llms.create_llm("vertex/gemini-2.5-flash", project="p", backups=[{{"location": "europe-west4"}}])
for media_model in ("gemini/imagen-4.0-generate-001", "gemini/veo-3.0-generate-001",
                    "gemini/gemini-embedding-001", "cohere/embed-v4.0", "cohere/rerank-v3.5"):
    core.llms.create_llm(media_model, api_key="k")
core.llms.create_llm("vertex/text-embedding-005", project="p")
print(",".join(m for m in {HEAVY + DISCOVERY + GOOGLE_AUTH!r} if m in sys.modules))
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


GEMINI_CALLS = """
import asyncio, sys
import core.llms
from core.llms.simulator import Simulator

async def main():
    async with Simulator() as sim:
        gemini = core.llms.create_llm("gemini/gemini-2.5-flash", api_key="k", endpoint=sim.url + "/v1beta")
        vertex = core.llms.create_llm("vertex/gemini-2.5-flash", project="p", endpoint=sim.url,
                                      token_provider=lambda: "token")
        async with gemini, vertex:
            await gemini.get_answer("hi")
            [c async for c in gemini.stream_answer("hi")]
            await vertex.get_answer("hi")
    print(",".join(m for m in ("google.auth", "google.oauth2", "requests") if m in sys.modules) or "-")

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


BEDROCK_PLUGIN = """
import sys
import core.llms.providers.bedrock
import core.llms.providers.bedrock.plugin
from core.llms.providers.bedrock.plugin import PROFILE

PROFILE.adapter().url
print(",".join(m for m in ("boto3", "botocore", "yarl", "aiohttp") if m in sys.modules) or "-")
"""


def test_the_bedrock_plugin_imports_no_aws_sdk() -> None:
    assert run(BEDROCK_PLUGIN) == ["-"]


def test_without_entry_point_plugins_importlib_metadata_is_not_loaded() -> None:
    loaded, ollama = run(IMPORT_AND_CREATE, CORE_LLMS_DISABLE_PLUGIN_AUTOLOAD="1")
    assert (loaded, ollama) == ("", "-")


def test_gemini_api_keys_and_vertex_token_providers_never_import_google_auth() -> None:
    assert run(GEMINI_CALLS) == ["-"]


def test_first_call_loads_aiohttp_and_maps_its_errors() -> None:
    assert run(FIRST_CALL) == ["APIConnectionError True"]


def test_pydantic_model_classes_are_recognised_without_importing_pydantic() -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        text: str

    assert is_pydantic_model_class(Answer)
    assert not is_pydantic_model_class(Answer(text="x"))
    assert not is_pydantic_model_class(dict) and not is_pydantic_model_class({"type": "json_object"})
