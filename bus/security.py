"""CurveZMQ for the bus in cluster mode: encryption, and only the cluster's processes connect.

The proxy holds a server key pair; every process of the cluster holds one shared client key
pair. Both are generated when the proxy starts and travel inside `BusEndpoints`, that is
through Ray, whose token authentication keeps them from anyone outside the cluster. The
proxy's ZAP handler admits a connection only if it proves it holds the client secret key, so
a socket without it can neither subscribe nor publish, and nobody can read the traffic.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import zmq
from zmq.auth.thread import ThreadAuthenticator


@dataclass(frozen=True)
class BusKeys:
    """The proxy's key pair and the cluster's client key pair (Z85 text, 40 bytes each)."""

    server_public: bytes
    server_secret: bytes
    client_public: bytes
    client_secret: bytes

    @classmethod
    def generate(cls) -> BusKeys:
        server_public, server_secret = zmq.curve_keypair()
        client_public, client_secret = zmq.curve_keypair()
        return cls(server_public, server_secret, client_public, client_secret)

    def secure_server(self, socket: zmq.Socket[bytes]) -> None:
        """Makes a proxy socket accept only CurveZMQ clients."""
        socket.curve_server = True
        socket.curve_publickey = self.server_public
        socket.curve_secretkey = self.server_secret

    def secure_client(self, socket: zmq.Socket[bytes]) -> None:
        """Makes a client socket talk CurveZMQ to the proxy, as the cluster's client."""
        socket.curve_serverkey = self.server_public
        socket.curve_publickey = self.client_public
        socket.curve_secretkey = self.client_secret


class ClusterGate:
    """The proxy's ZAP handler: admits CurveZMQ clients holding the cluster's client key.

    Refused handshakes are counted in `refused`.
    """

    def __init__(self, context: zmq.Context[zmq.Socket[bytes]], keys: BusKeys) -> None:
        self.keys = keys
        self.refused = 0
        self._lock = threading.Lock()
        self._authenticator = ThreadAuthenticator(context)
        self._authenticator.start()
        self._authenticator.configure_curve_callback(domain="*", credentials_provider=self)

    def callback(self, domain: str, key: bytes) -> bool:
        """Called by the authenticator with a client's public key (Z85)."""
        admitted = key == self.keys.client_public
        if not admitted:
            with self._lock:
                self.refused += 1
        return admitted

    def stop(self) -> None:
        self._authenticator.stop()
