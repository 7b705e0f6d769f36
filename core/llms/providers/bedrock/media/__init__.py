"""What Amazon Bedrock serves beyond chat, one module per kind of output, each imported on first
use by the Bedrock model's media methods (never by ``import core.llms``):

* :mod:`.embeddings` — ``embed`` (Titan Text Embeddings v2 one text per ``InvokeModel``, Cohere
  Embed v3 up to 96 texts per call);
* :mod:`.images` — ``get_image`` (Nova Canvas, Titan Image Generator v2: ``TEXT_IMAGE``);
* :mod:`.video` — ``get_video`` / ``stream_video`` (Nova Reel: ``StartAsyncInvoke``, polled with
  ``GetAsyncInvoke``, the MP4 fetched from S3);
* :mod:`.s3` — the S3 object URL of a job's output and its signed ``GET``.

boto3 / botocore are never imported by these modules at import time.
"""
