"""ui/assets.py: Streamlit's frontend files answered from memory, everything else passed on unchanged."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ui.assets import CACHE_CONTROL, FrontendAssets


@pytest.fixture
def frontend(tmp_path: Path) -> Path:
    """A literal frontend folder: two hashed files, and a secret beside the folder."""
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "js" / "index.Ab12.js").write_text("console.log('ciao')", encoding="utf-8")
    (tmp_path / "static" / "media").mkdir()
    (tmp_path / "static" / "media" / "font.Cd34.woff2").write_bytes(b"\x00\x01woff2")
    (tmp_path / "index.html").write_text("<html></html>", encoding="utf-8")
    (tmp_path / "segreto.txt").write_text("non servire", encoding="utf-8")
    return tmp_path


def call(mw: FrontendAssets, path: str, method: str = "GET", kind: str = "http") -> tuple[list[dict], list[str]]:
    sent: list[dict] = []
    passed: list[str] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request"}

    async def app(scope, receive, send) -> None:
        passed.append(scope["path"])

    mw.app = app
    asyncio.run(mw({"type": kind, "method": method, "path": path}, receive, send))
    return sent, passed


def test_a_frontend_file_is_answered_with_its_bytes_and_streamlits_headers(frontend):
    mw = FrontendAssets(None, base_url="", root=frontend)
    sent, passed = call(mw, "/static/js/index.Ab12.js")
    assert passed == []
    start, body = sent
    assert start["status"] == 200
    assert dict(start["headers"]) == {
        b"content-type": b"text/javascript; charset=utf-8",
        b"content-length": b"19",
        b"cache-control": CACHE_CONTROL,
    }
    assert body["body"] == b"console.log('ciao')"
    sent, _ = call(mw, "/static/media/font.Cd34.woff2", method="HEAD")
    assert dict(sent[0]["headers"])[b"content-type"] == b"font/woff2" and sent[1]["body"] == b""


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/index.html",
        "/segreto.txt",
        "/static/../segreto.txt",
        "/static/js/",
        "/static/js/altro.js",
        "/_stcore/health",
        "/static/js/index.Ab12.js/",
    ],
)
def test_anything_else_goes_on_to_streamlit(frontend, path):
    sent, passed = call(FrontendAssets(None, base_url="", root=frontend), path)
    assert sent == [] and passed == [path]


def test_a_post_and_a_websocket_go_on_to_streamlit(frontend):
    mw = FrontendAssets(None, base_url="", root=frontend)
    assert call(mw, "/static/js/index.Ab12.js", method="POST") == ([], ["/static/js/index.Ab12.js"])
    assert call(mw, "/static/js/index.Ab12.js", kind="websocket") == ([], ["/static/js/index.Ab12.js"])


def test_under_a_base_url_the_files_move_with_it(frontend):
    mw = FrontendAssets(None, base_url="/pdz/", root=frontend)
    assert call(mw, "/pdz/static/js/index.Ab12.js")[1] == []
    assert call(mw, "/static/js/index.Ab12.js")[1] == ["/static/js/index.Ab12.js"]


def test_streamlits_own_frontend_is_found():
    from ui.assets import frontend_files

    files = frontend_files()
    assert any(p.startswith("/static/js/") and p.endswith(".js") for p in files) and len(files) > 100
