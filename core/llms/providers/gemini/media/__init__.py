"""What Gemini (the Gemini API) and Vertex AI serve beyond chat, one module per kind of output,
each imported on first use by the Gemini model class:

* :mod:`.images` — ``get_image``: Imagen (``:predict``);
* :mod:`.speech` — ``get_audio`` / ``stream_audio``: Gemini TTS (``:generateContent`` with audio
  output, ``:streamGenerateContent``);
* :mod:`.video` — ``get_video`` / ``stream_video``: Veo jobs (``:predictLongRunning``, then the
  operation polled until it is done);
* :mod:`.embeddings` — ``embed``: gemini-embedding-001 (``:embedContent`` /
  ``:batchEmbedContents``) and Vertex's text embeddings (``:predict``).

Each entry point takes the model object (its connector, metadata, defaults and prices), the
call's input, its :class:`~core.llms.interfaces.context.RequestContext` and its keyword
parameters; every parameter is checked before anything is sent.
"""
