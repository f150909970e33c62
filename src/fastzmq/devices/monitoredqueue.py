"""``monitored_queue``: a proxy that copies each message, prefixed by its direction."""

from fastzmq._proxy import monitored_queue

__all__ = ["monitored_queue"]
