"""Devices: proxies between sockets they create, run in the foreground, a thread or a process.

pyzmq's ``zmq.devices`` layout over fastzmq's one proxy loop (``fastzmq._proxy``).
"""

from fastzmq._proxy import device, proxy, proxy_steerable
from fastzmq.constants import DeviceType
from fastzmq.devices import (
    basedevice,
    monitoredqueue,
    monitoredqueuedevice,
    proxydevice,
    proxysteerabledevice,
)
from fastzmq.devices.basedevice import *  # noqa: F403
from fastzmq.devices.monitoredqueue import *  # noqa: F403
from fastzmq.devices.monitoredqueuedevice import *  # noqa: F403
from fastzmq.devices.proxydevice import *  # noqa: F403
from fastzmq.devices.proxysteerabledevice import *  # noqa: F403

__all__ = ["device", "proxy", "proxy_steerable", "DeviceType"]
for _submod in (
    basedevice,
    proxydevice,
    proxysteerabledevice,
    monitoredqueue,
    monitoredqueuedevice,
):
    __all__.extend(_submod.__all__)
del _submod
