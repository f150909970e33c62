# cython: language_level=3
"""Fast entry points for ``Socket.send`` and ``Socket.recv``.

Theory of operation
-------------------
A Cython ``def`` method is a function object of Cython's own (binding functions), so
``sock.send(msg)`` goes: the interpreter's generic call, the function object's vectorcall,
a wrapper that parses all six parameters of ``send`` (a reference taken on each, defaults
filled in, the references dropped again), then the body. Measured with callgrind (16-byte
inproc messages, the caller's ``for`` loop included), these entry points take ``send`` from
712 to 582 instructions a call and ``recv`` from 708 to 570.

CPython 3.11+ specialises a call of a builtin *method descriptor* with ``METH_FASTCALL |
METH_KEYWORDS`` when the instance's type is exactly the descriptor's type: the interpreter
then calls the C function itself, with the arguments still on its stack. So
``install(Socket)`` puts two such descriptors, made for ``Socket`` itself, in its class
dict:

* ``send(data)`` and ``send(data, flags)``, and ``recv()`` and ``recv(flags)``, without
  keywords (the calls a hot loop makes), go straight to the bodies behind the full
  methods: ``SocketCore._send``, and ``_enter`` + ``_recv_frame`` (``recv`` with copy=True);
* any other call (keywords, ``copy``, ``track``, more arguments) is forwarded, with the
  same arguments, to ``SocketCore.send`` / ``SocketCore.recv``, which parse them as before.
  One code path for every semantic and every error; the only cost is one more call.

``flags`` is converted exactly as the full method converts it (Cython's C int conversion:
``TypeError`` for a non-integer, ``OverflowError`` out of range). Subclasses of ``Socket``
(``fastzmq.asyncio``, ``fastzmq.green``, users' own) inherit the descriptors and work
unchanged, through the interpreter's generic (unspecialised) path; their overrides of
``send``/``recv`` take precedence as usual.
"""

from cpython.object cimport PyObject
from libc.stdlib cimport free, malloc

from fastzmq._socket cimport SocketCore


cdef extern from "Python.h":
    ctypedef struct PyMethodDef:
        const char* ml_name
        void* ml_meth
        int ml_flags
        const char* ml_doc
    object PyDescr_NewMethod(object cls, PyMethodDef* meth)
    object PyObject_Vectorcall(object callable, PyObject** args, size_t nargsf,
                               PyObject* kwnames)
    int METH_FASTCALL
    int METH_KEYWORDS


cdef enum:
    _STACK = 8  # forwarded calls with up to 7 arguments (send has 6) need no malloc


cdef object _core_send = SocketCore.send
cdef object _core_recv = SocketCore.recv


cdef object _forward(object method, object self, PyObject** args, Py_ssize_t nargs,
                     PyObject* kwnames):
    """method(self, *args, **kwargs) for a vectorcall's arguments (keywords included)."""
    cdef Py_ssize_t n = nargs + (len(<tuple>kwnames) if kwnames != NULL else 0)
    cdef PyObject* small[_STACK]
    cdef PyObject** stack = small
    cdef Py_ssize_t i
    if n + 1 > _STACK:
        stack = <PyObject**>malloc((n + 1) * sizeof(PyObject*))
        if stack == NULL:
            raise MemoryError()
    try:
        stack[0] = <PyObject*>self
        for i in range(n):
            stack[i + 1] = args[i]
        return PyObject_Vectorcall(method, stack, nargs + 1, kwnames)
    finally:
        if stack != small:
            free(stack)


cdef object _send_entry(object self, PyObject** args, Py_ssize_t nargs, PyObject* kwnames):
    cdef int flags
    if kwnames == NULL and (<SocketCore>self).target is None:  # (a shadow: forwarded)
        if nargs == 1:
            return (<SocketCore>self)._send(<object>args[0], 0, False)
        if nargs == 2:
            flags = <object>args[1]
            return (<SocketCore>self)._send(<object>args[0], flags, False)
    return _forward(_core_send, self, args, nargs, kwnames)


cdef object _recv_entry(object self, PyObject** args, Py_ssize_t nargs, PyObject* kwnames):
    cdef int flags = 0
    cdef SocketCore s = <SocketCore>self
    if kwnames == NULL and nargs <= 1 and s.target is None:  # (a shadow: forwarded)
        if nargs == 1:
            flags = <object>args[0]
        s._enter()  # SocketCore.recv's body with copy=True
        return s._recv_frame(flags)
    return _forward(_core_recv, self, args, nargs, kwnames)


# The method tables must outlive the descriptors: module-level statics. The docstrings
# start with a text signature, so inspect.signature() sees the same parameters as before.
cdef bytes _SEND_DOC = (
    b"send($self, /, data, flags=0, copy=True, track=False, routing_id=None, group=None)\n--\n\n"
    b"Send one frame; with SNDMORE, more frames of the same message follow."
)
cdef bytes _RECV_DOC = (
    b"recv($self, /, flags=0, copy=True, track=False)\n--\n\n"
    b"Receive one frame (bytes, or a Frame with copy=False)."
)
cdef PyMethodDef _send_def
cdef PyMethodDef _recv_def
_send_def.ml_name = "send"
_send_def.ml_meth = <void*>_send_entry
_send_def.ml_flags = METH_FASTCALL | METH_KEYWORDS
_send_def.ml_doc = _SEND_DOC
_recv_def.ml_name = "recv"
_recv_def.ml_meth = <void*>_recv_entry
_recv_def.ml_flags = METH_FASTCALL | METH_KEYWORDS
_recv_def.ml_doc = _RECV_DOC


def install(cls):
    """Give cls (a SocketCore subclass) the fast ``send`` and ``recv`` (see the module doc)."""
    if not issubclass(cls, SocketCore):
        raise TypeError(f"{cls!r} is not a SocketCore subclass")
    cls.send = PyDescr_NewMethod(cls, &_send_def)
    cls.recv = PyDescr_NewMethod(cls, &_recv_def)
