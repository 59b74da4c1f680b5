"""uvicorn, stopped without dropping a request (issue #21 §9: a restart during a deploy).

uvicorn's own shutdown answers the requests it is running, but loses three kinds, each reset
(measured with 64 clients against `serve --workers 2` on SQLite: 1-20 of 120-220 requests lost
at each SIGTERM, `tests/integration/ops/test_serve_drain.py`):
- connections the kernel has accepted that the busy event loop has not taken yet: closing the
  listening socket resets its whole accept queue;
- connections uvicorn holds between two requests, including those whose next request is already
  in the receive buffer, unread: it closes them at once;
- requests a keep-alive client sends just as that close happens.

So on SIGTERM each HTTP process here:
1. lets no new connection reach its socket: a socket filter drops new SYNs (Linux), so nothing
   joins the accept queue and the client's kernel retries a second later (by then refused, or
   answered by the new server). Nothing is reset: closing now would reset the queue;
2. keeps taking and serving what is queued for `ACCEPT_GRACE_SECONDS` (handshakes under way
   complete meanwhile; their last ACK still passes), then closes the socket, empty;
3. answers every request it holds, and the next request on each keep-alive connection, with
   `Connection: close`; a connection that stays silent for `IDLE_SECONDS` is closed, as uvicorn
   closes an idle one after its keep-alive timeout in normal times.
uvicorn's `timeout_graceful_shutdown` still bounds the whole.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("watchroster.cli.serving")

ACCEPT_GRACE_SECONDS = 0.5
IDLE_SECONDS = 1.0
_SO_ATTACH_FILTER = 26  # Linux, <asm-generic/socket.h>


class _Instruction(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Instruction))]


# Classic BPF on a TCP socket sees the packet from its TCP header: drop a segment whose flags
# are SYN without ACK (a new connection), keep everything else (the handshakes under way).
_DROP_NEW_CONNECTIONS = (
    (0x30, 0, 0, 13),  # load the flags byte
    (0x54, 0, 0, 0x12),  # keep SYN and ACK
    (0x15, 0, 1, 0x02),  # SYN alone?
    (0x06, 0, 0, 0),  # yes: drop
    (0x06, 0, 0, 0xFFFFFFFF),  # no: keep
)


def refuse_new_connections(listener: Any) -> bool:
    """Stop new connections from reaching `listener` (a listening TCP socket) without
    closing it; False where that cannot be done (not Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    instructions = (_Instruction * len(_DROP_NEW_CONNECTIONS))(
        *(_Instruction(*line) for line in _DROP_NEW_CONNECTIONS)
    )
    program = _Program(len(_DROP_NEW_CONNECTIONS), instructions)
    try:
        # The kernel copies the program during the call: `instructions` only needs to live
        # until it returns.
        listener.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, bytes(program))
    except OSError as exc:
        log.warning("cannot stop new connections before closing the socket: %s", exc)
        return False
    return True


class DrainingProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol (httptools), with a shutdown that never cuts a connection a
    request may be on its way over: it answers that request with `Connection: close`."""

    draining = False

    def shutdown(self) -> None:
        self.draining = True
        if self.cycle is None or self.cycle.response_complete:
            # Between requests: wait for the next one (or the bytes already in the receive
            # buffer) a short while instead of closing now.
            self._unset_keepalive_if_required()
            self.timeout_keep_alive_task = self.loop.call_later(
                IDLE_SECONDS, self.timeout_keep_alive_handler
            )
        else:
            self.cycle.keep_alive = False

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.draining and self.cycle is not None:
            self.cycle.keep_alive = False  # the answer says `Connection: close`


class DrainingServer(uvicorn.Server):
    """uvicorn's server whose shutdown first empties its listening sockets (see the module)."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        listeners = [sock for server in self.servers for sock in server.sockets]
        # A list, not a generator: every socket gets its filter even if one cannot.
        if all([refuse_new_connections(sock) for sock in listeners]):
            # Meanwhile the event loop takes the queued connections as usual.
            await asyncio.sleep(ACCEPT_GRACE_SECONDS)
        await super().shutdown(sockets)


def draining_config(application: Any, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(application, http=DrainingProtocol, **options)


def serve(application: Any, host: str, port: int, **options: Any) -> None:
    """`uvicorn.run(application, host=host, port=port, **options)`, draining on SIGTERM."""
    server = DrainingServer(draining_config(application, host=host, port=port, **options))
    server.run()
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE, as `uvicorn.run` exits
