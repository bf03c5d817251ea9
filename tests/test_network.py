import socket

import pytest
import pytest_socket


def test_the_suite_cannot_reach_the_internet():
    # Only try the connection when the guard is in place, so a missing plugin fails here
    # instead of sending a packet anywhere.
    assert socket.socket.connect.__name__ == "guarded_connect"
    with pytest.raises(pytest_socket.SocketConnectBlockedError), socket.socket() as sock:
        sock.connect(("198.51.100.7", 443))


def test_loopback_stays_reachable():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2) as client:
            accepted, _ = server.accept()
            with accepted:
                client.sendall(b"ping")
                assert accepted.recv(4) == b"ping"
