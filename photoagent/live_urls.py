"""WebSocket routes (photoagent/asgi.py)."""

from django.urls import path

from projects.consumers import LiveConsumer

websocket_urlpatterns: list = [
    path("ws/live/", LiveConsumer.as_asgi()),
]
