// hush chat example: how the examples include standalone Asio (Debian 12's libasio-dev).
//
// Debian ships Asio header-only and standalone (asio.hpp defines ASIO_STANDALONE and
// ASIO_HEADER_ONLY by itself in C++11 and later; there is no library to link beyond pthreads, no
// pkg-config file and no CMake package). Deprecated interfaces are switched off so that only
// current ones are used. The headers are not held to hush's warning set.
#pragma once

#ifndef ASIO_NO_DEPRECATED
#define ASIO_NO_DEPRECATED 1
#endif

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
#pragma GCC diagnostic ignored "-Woverloaded-virtual"
#include <asio.hpp>
#pragma GCC diagnostic pop
