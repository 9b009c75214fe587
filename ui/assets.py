"""Streamlit's own frontend files (its JavaScript, CSS and fonts) served from memory.

A browser opening the dashboard for the first time fetches about 120 of them. Through Streamlit's
server stack each costs ~1.5 ms of the server's CPU (routing, six middlewares, a file opened and
read in a thread): ~0.2 s per first visit, two thirds of a visit's CPU, so 48 mayors opening the
dashboard together would queue behind the files. This ASGI middleware (placed before Streamlit's,
by `app` in app.py) answers a GET or HEAD for exactly one of those files with its bytes, read once,
and the headers Streamlit gives them (content-hashed names: "public, immutable, max-age=1 year").
Any other request, including any path that is not exactly one of the files (so no path leaves the
folder), goes on to Streamlit unchanged.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import streamlit

FRONTEND = Path(streamlit.__file__).parent / "static"
CACHE_CONTROL = b"public, immutable, max-age=31536000"  # Streamlit's own for these files


def frontend_files(root: Path = FRONTEND) -> dict[str, Path]:
    """URL path → file, for the content-hashed files under `static/` of Streamlit's frontend."""
    folder = root / "static"
    if not folder.is_dir():
        return {}
    return {"/" + p.relative_to(root).as_posix(): p for p in folder.rglob("*") if p.is_file()}


class FrontendAssets:
    """ASGI middleware: Streamlit's frontend files from memory; everything else to `app`."""

    def __init__(self, app, base_url: str | None = None, root: Path = FRONTEND) -> None:
        self.app = app
        if base_url is None:
            from streamlit import config

            base_url = config.get_option("server.baseUrlPath") or ""
        prefix = "/" + base_url.strip("/") if base_url.strip("/") else ""
        self.files = {prefix + path: file for path, file in frontend_files(root).items()}
        self.loaded: dict[str, tuple[bytes, list[tuple[bytes, bytes]]]] = {}

    def _load(self, path: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        hit = self.loaded.get(path)
        if hit is None:
            file = self.files[path]
            body = file.read_bytes()
            kind = mimetypes.guess_type(file.name)[0] or "text/plain"  # as Starlette's FileResponse
            if kind.startswith("text/"):
                kind += "; charset=utf-8"
            headers = [
                (b"content-type", kind.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", CACHE_CONTROL),
            ]
            hit = self.loaded[path] = (body, headers)
        return hit

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD") and path in self.files:
            body, headers = self._load(path)
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})
            return
        await self.app(scope, receive, send)
