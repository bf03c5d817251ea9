"""Print the address `make run` serves the web process on, or stop if it cannot be used."""

import errno
import socket

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Print HOST:PORT for the development web server (from HOST and PORT), after checking it is free, then SITE_URL."
    )

    def handle(self, *args, **options):
        host, port = settings.RUN_HOST, settings.RUN_PORT
        address = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # Found now, with the remedy, rather than as one line in the middle of three processes' output.
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host.strip("[]"), port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise CommandError(
                        f"Port {port} on {host} is already in use. Stop what uses it, or pick another: "
                        f"PORT={port + 1} make run"
                    ) from exc
                raise CommandError(f"Cannot serve on {address}: {exc.strerror}. Set HOST and PORT.") from exc
        # SITE_URL too: honcho gives every process its own PORT, so the workers (which write the
        # links in emails) must be told the web's URL rather than derive it again.
        self.stdout.write(f"{address} {settings.SITE_URL}")
