# Type stub of the compiled socket core (_socket.pyx): what Socket inherits from it.
# __getattr__/__setattr__ keep the option attributes socket.py generates at import time
# (sock.sndbuf, ...) usable in typed code; the rest is precise, so a Socket is not Any.
from typing import Any

SOCKET_TYPE_NAMES: dict[int, str]
TYPE_MODULES: list[str]

class TypeBase:
    socket_type: int
    name: str
    can_send: bool
    can_recv: bool
    lb_fast: bool
    fq_fast: bool
    fq_filter: bool
    always_out: bool

def register(socket_type: int, name: str, cls: type[TypeBase]) -> None: ...
def type_class(socket_type: int) -> type[TypeBase] | None: ...

class SocketCore:
    socket_type: int
    impl: TypeBase
    rcvmore: bool
    closed: bool
    context: Any
    options: dict[int, Any]
    sndhwm: int
    rcvhwm: int
    sndtimeo: int
    rcvtimeo: int
    linger: int
    maxmsgsize: int
    def send(
        self,
        data: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        routing_id: Any = None,
        group: Any = None,
    ) -> Any: ...
    def send_multipart(
        self, msg_parts: Any, flags: int = 0, copy: bool = True, track: bool = False, **kwargs: Any
    ) -> Any: ...
    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any: ...
    def recv_multipart(
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> list[Any]: ...
    def get_stats(self) -> dict[str, int]: ...
    def __getattr__(self, name: str) -> Any: ...
    def __setattr__(self, name: str, value: Any) -> None: ...
