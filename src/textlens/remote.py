"""A team's ``textlens serve`` from Python: the same calls as :class:`textlens.Collection`, over its REST API.

Options are checked here first, by the same definitions the server uses (:class:`~textlens.search.options.
SearchOptions`, :class:`~textlens.ask.options.AskOptions`), so a bad one fails before any request; results come
back as the library's own types (:class:`~textlens.search.results.Results`, :class:`~textlens.ask.Answer`,
:class:`~textlens.index.AddReport`), and errors as the exception types the local API raises (a missing collection
is a :class:`~textlens.index.CollectionNotFound`, ids already there a :class:`~textlens.index.CollectionConflict`,
a bad request an :class:`~textlens.errors.InputError`...).

Example:
    >>> from textlens.remote import connect
    >>> server = connect("http://search.internal:8000", api_key="...")            # doctest: +SKIP
    >>> wiki = server.collection("wikipedia")                                      # doctest: +SKIP
    >>> wiki.search("highest mountain", k=3)                                       # doctest: +SKIP
    >>> wiki.ask("How high is Mount Everest?", on_text=print)                      # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from textlens.ask.answer import Answer
from textlens.ask.options import AskOptions
from textlens.config import DEFAULT_ENCODER
from textlens.corpus import Document
from textlens.errors import AssetError, ConflictingInput, Forbidden, InputError, TextlensError, TooLarge
from textlens.index.base import AddReport, CollectionConflict, CollectionNotFound
from textlens.llm.base import LLMError, LLMTimeout, OnText
from textlens.options import Options
from textlens.search.options import SearchOptions
from textlens.search.results import Results


class ServerError(TextlensError):
    """The server could not be reached, was busy (429), or failed (500)."""


class ServerConflict(CollectionConflict, ConflictingInput):
    """A 409: what the local API raises as :class:`CollectionConflict` (the ids are taken, another writer) or as
    :class:`~textlens.errors.ConflictingInput` (an id twice, a filter on a field no document has, an empty
    collection); a status cannot tell which, so this is both, and either ``except`` catches it."""


# the exception type of each status: the one the local API raises for the same fault
ERRORS: dict[int, type[TextlensError]] = {
    400: InputError,
    401: Forbidden,
    403: Forbidden,
    404: CollectionNotFound,
    409: ServerConflict,
    413: TooLarge,
    422: InputError,
    429: ServerError,
    500: ServerError,
    502: LLMError,
    503: AssetError,
    504: LLMTimeout,
}


def error_of(status: int, body: dict[str, Any]) -> TextlensError:
    """The exception for an error response ``{error, hint, field}`` (any shape is read as well as it can be)."""
    cls = ERRORS.get(status, ServerError)
    message = str(body.get("error") or f"the server answered {status}")
    return cls(f"{message} (HTTP {status})", hint=body.get("hint"))


class Server:
    """One textlens server: its collections, each a :class:`RemoteCollection`.

    ``api_key`` (default ``TEXTLENS_API_KEY``) is sent with every request; write endpoints need it when the server
    sets one. ``timeout``: seconds for a request (an answer streams as long as it takes).
    """

    def __init__(self, url: str, *, api_key: str | None = None, timeout: float = 120.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        key = api_key if api_key is not None else os.environ.get("TEXTLENS_API_KEY")
        headers = {"X-API-Key": key} if key else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a request's answer, or the local API's exception for its error."""
        import httpx

        try:
            res = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerError(
                f"no answer from {self.url}: {exc}", hint="Check the URL and that `textlens serve` runs there."
            ) from exc
        if res.status_code >= 400:
            raise error_of(res.status_code, _json(res.text))
        return res.json()

    def health(self) -> dict[str, Any]:
        """``/healthz``: whether the server's models are loaded."""
        return self.request("GET", "/healthz")

    def collections(self) -> list[dict[str, Any]]:
        """The collections the server serves: name, documents, encoder."""
        return self.request("GET", "/api/collections")

    def collection(self, name: str) -> RemoteCollection:
        """The collection ``name`` (nothing is asked of the server until it is used)."""
        return RemoteCollection(self, name)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(url: str, *, api_key: str | None = None, timeout: float = 120.0) -> Server:
    """The textlens server at ``url`` (``http://host:8000``)."""
    return Server(url, api_key=api_key, timeout=timeout)


class RemoteCollection:
    """A collection on a server, used as a local :class:`textlens.Collection` is: add, search, ask, delete."""

    def __init__(self, server: Server, name: str) -> None:
        self.server = server
        self.name = name
        self._path = "/api/collections/" + quote(name, safe="")

    def info(self) -> dict[str, Any]:
        """Name, documents, encoder, language, vector index, fields and size."""
        return self.server.request("GET", self._path)

    def __len__(self) -> int:
        return int(self.info()["documents"])

    def add(
        self,
        docs: Iterable[Document],
        *,
        upsert: bool = False,
        encoder: str | None = DEFAULT_ENCODER,
        batch_size: int = 1000,
    ) -> AddReport:
        """Add documents (replace them with ``upsert``), in batches; the first add creates the collection with
        ``encoder`` (one the server allows, or ``None`` for keyword only)."""
        report = AddReport()
        for batch in _batches(docs, batch_size):
            report.skipped_empty += [d.id for d in batch if not d.text.strip()]  # as locally (the API refuses them)
            if not (batch := [d for d in batch if d.text.strip()]):
                continue
            body = {"documents": [_document(d) for d in batch], "upsert": upsert, "encoder": encoder}
            done = self.server.request("POST", self._path + "/documents", json=body)
            report.added += done["added"]
            report.replaced += done["replaced"]
            report.embedded += done["embedded"]
        return report

    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents by id; how many were deleted (an id the collection lacks is skipped)."""
        self.info()  # a missing collection is an error, as locally; a missing id is not
        deleted = 0
        for doc_id in ids:
            try:
                path = f"{self._path}/documents/{quote(doc_id, safe='')}"
                deleted += self.server.request("DELETE", path)["deleted"]
            except CollectionNotFound:
                continue
        return deleted

    def search(self, query: str, **options: Any) -> Results:
        """Search by keywords, meaning or both; ``options`` are :class:`SearchOptions`' fields (a reranker by the
        name the server allows)."""
        body = {"query": query, **_rest(SearchOptions.make(**options))}
        return Results.from_dict(self.server.request("POST", self._path + "/search", json=body))

    def ask(self, question: str, *, on_text: OnText | None = None, **options: Any) -> Answer:
        """Answer ``question`` from the collection with the server's LLM, citing passages; ``on_text`` receives
        the model's text as it streams. ``options`` are :class:`AskOptions`' fields (the server picks the LLM)."""
        body = {"question": question, **_rest(AskOptions.make(**options))}
        if on_text is None:
            return Answer.from_dict(self.server.request("POST", self._path + "/ask", json=body))
        for event, data in self._events(self._path + "/ask", {**body, "stream": True}):
            if event == "token":
                on_text(data["text"])
            elif event == "answer":
                return Answer.from_dict(data)
            elif event == "error":
                raise error_of(int(data.get("status", 500)), data)
        raise ServerError("the answer stream ended without an answer", hint="See the server's log.")

    def _events(self, path: str, body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The server-sent events of a streamed request: (event, data) pairs."""
        import httpx

        try:
            with self.server.http.stream("POST", path, json=body) as res:
                if res.status_code >= 400:
                    raise error_of(res.status_code, _json(res.read().decode("utf-8", "replace")))
                event = None
                for line in res.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event is not None:
                        yield event, json.loads(line[6:])
                        event = None
        except httpx.HTTPError as exc:
            raise ServerError(f"the answer stream from {self.server.url} broke: {exc}") from exc

    def __repr__(self) -> str:
        return f"RemoteCollection({self.name!r} at {self.server.url})"


def _rest(options: Options) -> dict[str, Any]:
    """The options as the REST API takes them: the fields it offers, tuples as lists, a reranker by its name."""
    out = {}
    for f in options.fields():
        value = getattr(options, f.name)
        if not f.metadata.get("rest", True):
            if value != f.default:
                raise InputError(f"{f.name} is the server's to choose", hint=f"Leave {f.name} out.")
            continue
        if value is not None and f.name == "rerank" and not isinstance(value, str):
            raise InputError("a remote search names its reranker", hint="Pass the name the server allows.")
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def _document(doc: Document) -> dict[str, Any]:
    return {"id": doc.id, "text": doc.text, "title": doc.title, "metadata": doc.metadata, "parent": doc.parent}


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _json(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError:
        return {"error": text[:500]}
    return body if isinstance(body, dict) else {"error": str(body)[:500]}
