"""Claude on Vertex AI: :class:`VertexClaudeModel` and its catalogue rows (:data:`VERTEX_CLAUDE_ROWS`).

Vertex AI serves Anthropic's models under the publisher ``anthropic``::

    POST {host}/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict
    POST …:streamRawPredict        (Anthropic's SSE stream, event for event)

The body is the Messages API's (built by the ``anthropic_messages`` dialect, so every message,
tool, ``tool_choice``, thinking, cache and signature rule is the same as on ``anthropic/…``)
without ``model`` (it is in the URL) and with ``"anthropic_version": "vertex-2023-10-16"``;
``"stream": true`` stays in a streamed call's body, and betas travel in the ``anthropic-beta``
header (as Anthropic's own Vertex client sends them). Auth is the Vertex provider's: a Google
access token (``credentials`` / ``credentials_file`` / ADC), a ``token_provider``, or an API key
(:class:`~.adapter.VertexAdapter`); a backup naming another location is that region's host.

Rows: Anthropic's catalogue (limits, capabilities, list prices) with ``provider="vertex"``, each
named by Anthropic's alias (``vertex/claude-sonnet-4-5``) and sending Vertex AI's model id
(``claude-sonnet-4-5@20250929``), which is also an alias. An open name that starts with a row's
name followed by ``@`` (``vertex/claude-sonnet-4-5@20260101``) is served by the same class
(the registry's family rule), without a price.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ...interfaces.llm_interfaces import WireRequest
from ...interfaces.messages import MessagesInput
from ...interfaces.metadata import ModelMetadata
from ...interfaces.provider import ModelRow
from ..anthropic.catalogue import ANTHROPIC_CATALOGUE
from ..dialects.anthropic_messages.calls import Prepared, prepare
from ..dialects.anthropic_messages.model import AnthropicModel

__all__ = [
    "STREAM_OPERATION",
    "VERTEX_ANTHROPIC_VERSION",
    "VERTEX_CLAUDE_MODELS",
    "VERTEX_CLAUDE_ROWS",
    "VertexClaudeModel",
    "vertex_claude_metadata",
]

#: the ``anthropic_version`` body field of Claude on Vertex AI.
VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16"
#: the Vertex adapter's operation of a streamed call (``:streamRawPredict``).
STREAM_OPERATION = "anthropic_messages_stream"


class VertexClaudeModel(AnthropicModel):
    """A Claude model on Vertex AI: the Messages API dialect's calls (same parameters, answers,
    chunks and thinking signatures as :class:`AnthropicModel`; see ``docs/anthropic.md``), with
    Vertex AI's URL (``:rawPredict`` / ``:streamRawPredict``), body and auth."""

    #: the adapter operation of a non-streamed call (``:rawPredict``).
    operation: ClassVar[str] = "anthropic_messages"

    def _prepare(self, messages: MessagesInput, params: Mapping[str, Any], stream: bool) -> Prepared:
        prepared = prepare(self, messages, self._merge_parameters(params), stream=stream)
        body = dict(prepared.body)
        body.pop("model", None)  # in the URL
        prepared.body = {"anthropic_version": VERTEX_ANTHROPIC_VERSION, **body}
        return prepared

    def _wire_request(self, prepared: Prepared, stream: bool) -> WireRequest:
        return WireRequest(
            STREAM_OPERATION if stream else self.operation,
            prepared.body,
            stream=stream,
            model=prepared.model,
            model_fixed=prepared.model_fixed,
            headers=prepared.headers,
            read_timeout=prepared.read_timeout,
            total_timeout=prepared.total_timeout,
        )


def vertex_claude_metadata(meta: ModelMetadata) -> ModelMetadata:
    """An Anthropic catalogue row as a Vertex AI row: ``provider="vertex"``, the wire name
    ``<name>@<snapshot date>`` (also its alias); limits, capabilities and prices kept."""
    day = meta.model_id.rsplit("-", 1)[-1]
    vertex_id = f"{meta.name}@{day}"
    return meta.replace(
        provider="vertex",
        wire_name=vertex_id,
        aliases=(vertex_id,),
        description=f"{meta.description} on Vertex AI",
    )


#: the Claude rows of the ``vertex`` provider's catalogue (metadata only).
VERTEX_CLAUDE_MODELS: tuple[ModelMetadata, ...] = tuple(
    vertex_claude_metadata(m) for m in ANTHROPIC_CATALOGUE.values()
)
#: the same rows, made from :class:`VertexClaudeModel`.
VERTEX_CLAUDE_ROWS: tuple[ModelRow, ...] = tuple(ModelRow(m, VertexClaudeModel) for m in VERTEX_CLAUDE_MODELS)
