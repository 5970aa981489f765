"""Local stand-ins for the internet services the reference's native tools reach, on 127.0.0.1.

One HTTP server answers in the shapes of:
- Open-Meteo geocoding: GET /v1/search?name=Tokyo        (weather:get with a place name)
- Open-Meteo forecast:  GET <any other path>?latitude=..  (weather:get)
- Brave Search:         GET /res/v1/web/search?q=...      (web:search, the reference's README)
- DuckDuckGo instant answers: GET /?q=...&format=json     (web:search, the reference's tests' comments)

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
                status, body = owner.answer(self.path)
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
