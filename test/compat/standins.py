"""Local stand-ins for the internet services the reference's native tools reach, on 127.0.0.1.

One HTTP server answers in the shapes of:
- Open-Meteo geocoding: GET /v1/search?name=Tokyo        (weather:get with a place name)
- Open-Meteo forecast:  GET <any other path>?latitude=..  (weather:get)
- Brave Search:         GET /res/v1/web/search?q=...      (web:search, the reference's README)
- DuckDuckGo instant answers: GET /?q=...&format=json     (web:search, the reference's tests' comments)
- an OpenAI-compatible model: POST /v1/chat/completions    (the apps' LLM, in the "sdk" part;
  streamed as server-sent events when asked): scripted answers in the shape each app's prompt asks for (a JSON plan, sub-queries, a section,
  a ReAct final answer)

Every request is recorded (``hits``), so a test can tell that the runtime asked the stand-in and
not the real service.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PLACES = {
    "tokyo": ("Tokyo", "Japan", 35.6895, 139.69171),
    "paris": ("Paris", "France", 48.85341, 2.3488),
}


def _place(name: str) -> tuple[str, str, float, float]:
    return PLACES.get(name.strip().lower(), (name, "Nowhere", 10.0, 20.0))


class StandIns:
    def __init__(self) -> None:
        self.hits: list[str] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                with owner._lock:
                    owner.hits.append(self.path)
                self.send_json(*owner.answer(self.path))

            def do_POST(self) -> None:  # noqa: N802
                with owner._lock:
                    owner.hits.append(self.path)
                length = int(self.headers.get("content-length") or 0)
                try:
                    request = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    request = {}
                if urlparse(self.path).path.endswith("/chat/completions") and request.get("stream"):
                    self.send_sse(completion_chunks(request))
                elif urlparse(self.path).path.endswith("/chat/completions"):
                    self.send_json(200, completion(request))
                else:
                    self.send_json(404, {"error": f"the compat stand-in does not serve POST {self.path}"})

            def send_sse(self, events: list) -> None:
                data = "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode() + b"data: [DONE]\n\n"
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def send_json(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="standins", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "StandIns":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def hit(self, kind: str) -> bool:
        """Whether a request of this kind ("geocoding", "forecast", "search") arrived."""
        with self._lock:
            return any(self.kind(p) == kind for p in self.hits)

    @staticmethod
    def kind(path: str) -> str:
        url = urlparse(path)
        q = parse_qs(url.query)
        if url.path.endswith("/chat/completions"):
            return "llm"
        if url.path.endswith("/v1/search") and "name" in q:
            return "geocoding"
        if "latitude" in q:
            return "forecast"
        if "q" in q or "query" in q:
            return "search"
        return "other"

    def answer(self, path: str) -> tuple[int, object]:
        url = urlparse(path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        kind = self.kind(path)
        if kind == "geocoding":
            name, country, lat, lon = _place(q["name"])
            return 200, {"results": [{"name": name, "country": country, "latitude": lat, "longitude": lon}]}
        if kind == "forecast":
            return 200, {
                "latitude": float(q["latitude"]),
                "longitude": float(q.get("longitude", "0")),
                "timezone": "Asia/Tokyo",
                "current_units": {"temperature_2m": "°C", "relative_humidity_2m": "%", "wind_speed_10m": "km/h"},
                "current": {
                    "time": "2025-12-06T12:00",
                    "temperature_2m": 12.5,
                    "relative_humidity_2m": 60,
                    "apparent_temperature": 11.0,
                    "precipitation": 0.0,
                    "weather_code": 2,
                    "wind_speed_10m": 8.4,
                },
            }
        if kind == "search":
            query = q.get("q") or q.get("query") or ""
            results = [
                {"title": f"Result {i} for {query}", "url": f"https://example.com/{i}", "description": f"Stand-in result {i} about {query}."}
                for i in (1, 2, 3)
            ]
            if url.path.endswith("/res/v1/web/search"):  # Brave
                return 200, {"type": "search", "query": {"original": query}, "web": {"type": "search", "results": results}}
            return 200, {  # DuckDuckGo instant answer
                "Heading": query,
                "Abstract": f"Stand-in abstract about {query}.",
                "AbstractURL": "https://example.com/abstract",
                "RelatedTopics": [{"Text": r["description"], "FirstURL": r["url"]} for r in results],
            }
        return 404, {"error": f"the compat stand-in does not serve {url.path}"}


def scripted_answer(prompt: str) -> str:
    """What a model would answer to each of the apps' prompts, in the shape its parser expects."""
    text = prompt.lower()
    if "trading advisor" in text or '"action"' in text:
        return json.dumps({"action": "HOLD", "confidence": 0.6, "reasoning": "scripted stand-in: signals are mixed"})
    if "research planning" in text or "sub-quer" in text:
        return json.dumps([{"id": "sq-1", "query": "AI agents 2025", "focus_area": "overview", "priority": 1},
                           {"id": "sq-2", "query": "agent runtimes", "focus_area": "tooling", "priority": 2}])
    if "research analyst" in text or "key_points" in text:
        return json.dumps({"title": "Overview", "content": "Scripted stand-in section.", "key_points": ["one", "two"]})
    return "Final Answer: This is the scripted stand-in model's answer."


def completion(request: dict) -> dict:
    prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", []) if isinstance(m, dict))
    return {
        "id": "chatcmpl-compat",
        "object": "chat.completion",
        "model": request.get("model", "stand-in"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": scripted_answer(prompt)}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 16, "total_tokens": len(prompt) // 4 + 16},
    }


def completion_chunks(request: dict) -> list:
    """The same answer as server-sent chunks, for a request with "stream": true."""
    whole = completion(request)
    text = whole["choices"][0]["message"]["content"]
    head = {"id": whole["id"], "object": "chat.completion.chunk", "model": whole["model"]}
    pieces = [text[i:i + 24] for i in range(0, len(text), 24)]
    chunks = [{**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": p}, "finish_reason": None}]} for p in pieces]
    return chunks + [{**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": whole["usage"]}]
