"""Bodies of the OpenAI-compatible API (/v1): the parts of OpenAI's chat completions format this app uses.

Fields OpenAI defines that do not apply here (temperature, max_tokens, tools, ...) are accepted and ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import Citation

MAX_MESSAGES = 500


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "model": "ema-overviews", "messages": [{"role": "user", "content": "How often is Conexxence given?"}]}]})

    model: str = Field(description="`ema-overviews`, or `ema-overviews:NAME` to answer from one medicine's "
                                   "overviews only (GET /v1/models lists them).")
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES,
                                    description="The conversation, oldest first. The last message is the question "
                                                "and must come from the user; earlier user and assistant messages "
                                                "are the history follow-up questions use. System messages are "
                                                "ignored: the answers follow this app's own rules.")
    stream: bool = Field(False, description="Send the reply as server-sent events, in chat.completion.chunk objects.")
    stream_options: StreamOptions | None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    system_fingerprint: str | None = None
    citations: list[Citation] = Field(description="Extra field: the sources of the [n] marks in the answer, the same "
                                                  "objects as in /api/ask. Also listed as plain text under "
                                                  "'Sources:' at the end of the answer.")
    refused: bool = Field(description="Extra field: true when the overviews do not answer the question (the "
                                      "reply then says so and has no citations).")


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "ema-chat"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class Error(BaseModel):
    """OpenAI's error body."""

    error: ErrorDetail
