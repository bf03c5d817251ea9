"""WebSocket routes (photoagent/asgi.py)."""

websocket_urlpatterns: list = []
