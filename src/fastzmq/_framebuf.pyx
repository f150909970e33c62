# cython: language_level=3, boundscheck=False, wraparound=False
"""The buffer protocol of ``fastzmq.Frame`` (its C base class).

``memoryview(frame)``, ``numpy.frombuffer(frame)`` and ``frame.buffer`` read the
frame's content in place, on every Python version (PEP 688's ``__buffer__`` is
3.12+ only). The content is ``_data``: a ``bytes`` (received frames, copies) or a
flat memoryview of the caller's buffer (zero-copy frames).

Writable as pyzmq's frames are, when the memory is the frame's own: a ``bytes``
that no one else holds (``_owned``: made by recv or by the Frame's own copy) and
longer than one byte (CPython shares the empty and one-byte ``bytes`` objects), or
a writable caller's buffer. A frame over a caller's ``bytes`` exports it read-only.
``bytes`` is copied once and cached (as pyzmq), so it never changes afterwards.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_FillInfo, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE


cdef class FrameBase:
    cdef public object _data        # bytes, or a flat 'B' memoryview of the caller's buffer
    cdef public bint _owned         # _data is a bytes no one else holds
    cdef public object _bytes       # the cached copy behind .bytes (None: not made yet)
    cdef public object _view        # the cached memoryview behind .buffer
    # the rest of Frame's state (message.py), here so a received frame is built in C
    cdef public bint more
    cdef public object tracker
    cdef public object tracker_event
    cdef public object _holds
    cdef public object _routing_id
    cdef public object _group
    cdef public object _properties
    cdef public bint _shared
    cdef object __weakref__

    def __cinit__(self, *args, **kwargs):
        self._data = b""
        self._routing_id = 0
        self._group = ""

    def __getbuffer__(self, Py_buffer* view, int flags):
        cdef object data = self._data
        cdef Py_buffer src
        cdef char* ptr
        cdef Py_ssize_t n
        cdef int readonly
        if type(data) is bytes:
            ptr = PyBytes_AS_STRING(data)
            n = PyBytes_GET_SIZE(data)
            readonly = not self._owned or n < 2
        else:
            PyObject_GetBuffer(data, &src, PyBUF_SIMPLE)
            ptr = <char*>src.buf
            n = src.len
            readonly = src.readonly
            PyBuffer_Release(&src)  # the memory stays: self holds data, view.obj holds self
        PyBuffer_FillInfo(view, self, ptr, n, readonly, flags)

    def __releasebuffer__(self, Py_buffer* view):
        pass

    @property
    def bytes(self):
        """The content as bytes: copied once, then the same object (pyzmq's rule)."""
        cdef object data
        if self._bytes is None:
            data = self._data
            if type(data) is bytes and not self._owned:
                self._bytes = data  # the caller's own immutable bytes
            elif type(data) is bytes:
                self._bytes = PyBytes_FromStringAndSize(
                    PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))
            else:
                self._bytes = data.tobytes()
        return self._bytes

    @property
    def buffer(self):
        """A memoryview of the content (the same object each time; writable when the
        memory is the frame's own)."""
        if self._view is None:
            self._view = memoryview(self)
        return self._view


def copy_bytes(bytes b):
    """A new bytes object with b's content (bytes(b) would return b itself)."""
    return PyBytes_FromStringAndSize(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))


def received(type cls, object data, bint more=False, properties=None):
    """A Frame (class cls) over a received bytes, which becomes its own memory."""
    cdef FrameBase f = cls.__new__(cls)
    f._data = data
    f._owned = True
    f.more = more
    f._properties = properties
    return f
