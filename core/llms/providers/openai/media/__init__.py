"""What OpenAI and Azure OpenAI serve beyond chat, one module per kind of output, each imported on
first use by :class:`~core.llms.providers.openai.model.OpenAIModel`:

* :mod:`.images` — ``get_image`` / ``stream_image`` (dall-e-3, gpt-image-1; edits);
* :mod:`.speech` — ``get_audio`` / ``stream_audio`` (tts-1, tts-1-hd, gpt-4o-mini-tts);
* :mod:`.transcription` — ``transcribe`` / ``translate`` (whisper-1, gpt-4o-transcribe);
* :mod:`.video` — ``get_video`` / ``stream_video`` (sora-2 jobs);
* :mod:`.embeddings` — ``embed`` (text-embedding-3-small/-large, ada-002).
"""
