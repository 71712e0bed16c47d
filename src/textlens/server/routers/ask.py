"""``POST /api/collections/{name}/ask``: a grounded answer as JSON, or streamed as server-sent events.

With ``"stream": true`` (or ``Accept: text/event-stream``) the reply is a stream of events:
``token`` (``{"text": ...}``, the model's text as it is written, citation markers
included), then one ``answer`` (the whole :meth:`Answer.to_dict`), or one ``error``
(``{"error", "hint", "status"}``) if something failed after the stream began.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import Field

from textlens.ask import answer_collection, require_documents, require_room
from textlens.ask.answer import Answer
from textlens.ask.options import AskOptions
from textlens.errors import TextlensError
from textlens.server.options import options_of, request_model
from textlens.server.schemas import CollectionName, responses

log = logging.getLogger("textlens.server")
router = APIRouter(prefix="/api/collections", tags=["ask"], responses=responses(404, 503))


AskRequest = request_model(
    AskOptions,
    "AskRequest",
    question=(
        str,
        Field(..., min_length=1, max_length=4_000, description="The question.", examples=["How tall is Everest?"]),
    ),
    stream=(bool, Field(False, description="Server-sent events: token ..., then answer (or error).")),
)


def _sse(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


STREAM = {
    "description": "The answer (JSON), or with ``stream`` (or ``Accept: text/event-stream``) server-sent events: "
    '``token`` events (``data: {"text": ...}``, the model\'s text as it is written), then one ``answer`` event '
    '(``data``: the Answer object) or one ``error`` event (``data: {"error", "hint", "status"}``, when '
    "something failed after the stream began).",
    "content": {
        "text/event-stream": {
            "schema": {  # one event: its type, and its data (JSON)
                "type": "object",
                "properties": {"event": {"enum": ["token", "answer", "error"]}, "data": {"type": "string"}},
                "required": ["event", "data"],
            },
            "example": 'event: token\ndata: {"text": "8,848 m"}\n\nevent: answer\ndata: {"question": ...}\n\n',
        }
    },
}


@router.post("/{name}/ask", response_model=Answer, responses={200: STREAM, **responses(409, 429, 502, 504)})
async def ask(name: CollectionName, body: AskRequest, request: Request) -> Response:
    """Answer a question from a collection with citations (see ``textlens ask``)."""
    from textlens.server.errors import status_of

    st = request.app.state.textlens
    col = st.collection(name)
    options = options_of(AskOptions, body, rerank=st.reranker(body.rerank))
    stream = body.stream or "text/event-stream" in request.headers.get("accept", "")

    # refused before any byte is sent, so the status line tells: nothing to answer from (409), no model
    # (403/503), a question the model's context cannot hold with passages (413), a full queue (429)
    await run_in_threadpool(require_documents, col)
    options = options.replace(llm=await run_in_threadpool(st.generator))
    await run_in_threadpool(require_room, body.question, options)
    release = st.wait_for_model()
    if not stream:

        def run() -> Response:
            try:
                answer = answer_collection(col, body.question, options)
            finally:
                release()
            return Response(orjson.dumps(answer.to_dict()), media_type="application/json")

        return await run_in_threadpool(run)

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def put(item: bytes | None) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        try:
            on_text = lambda piece: put(_sse("token", {"text": piece}))  # noqa: E731
            put(_sse("answer", answer_collection(col, body.question, options, on_text=on_text).to_dict()))
        except TextlensError as exc:
            said = {"error": st.public(exc.message), "hint": exc.rest_hint and st.public(exc.rest_hint)}
            put(_sse("error", {**said, "status": status_of(exc)}))
        except Exception as exc:  # reported in the stream; the status line has gone already
            log.error("ask stream failed: %s: %s", type(exc).__name__, exc)
            put(_sse("error", {"error": "internal error", "hint": "See the server log.", "status": 500}))
        finally:
            release()
            put(None)

    async def events():
        while (item := await queue.get()) is not None:
            yield item

    threading.Thread(target=work, name="ask-stream", daemon=True).start()
    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
