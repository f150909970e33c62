#!/bin/sh
# Build an old libzmq as one shared object: 3.2.x (a real ZMTP 2.0 peer) for
# tests/test_zmtp2_libzmq3.py, or 2.2.x (ZMTP 1.0) for tests/test_zmtp1_libzmq2.py:
#   tools/build_libzmq3.sh SRC_DIR OUT.so      (~15 s)
# SRC_DIR holds the zeromq3-x (or zeromq2-x) tree (src/, include/), e.g. from
#   git clone https://github.com/zeromq/zeromq3-x
# then: FASTZMQ_LIBZMQ3=OUT.so pytest tests/test_zmtp2_libzmq3.py
#       FASTZMQ_LIBZMQ2=OUT2.so pytest tests/test_zmtp1_libzmq2.py
set -e
src=$1
out=$2
cat > "$src/src/platform.hpp" <<'H'
#ifndef __ZMQ_PLATFORM_HPP_INCLUDED__
#define __ZMQ_PLATFORM_HPP_INCLUDED__
#define ZMQ_HAVE_LINUX 1
#define ZMQ_FORCE_EPOLL 1
#define ZMQ_HAVE_UIO 1
#define HAVE_CLOCK_GETTIME 1
#define HAVE_LIBPTHREAD 1
#define ZMQ_HAVE_SOCK_CLOEXEC 1
#endif
H
g++ -shared -fPIC -O1 -w -std=gnu++98 -I"$src/include" -I"$src/src" "$src"/src/*.cpp \
    -o "$out" -lpthread -lrt -luuid  # (uuid: 2.x only; harmless for 3.x)
