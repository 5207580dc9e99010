// hush chat example: a TCP connection that carries length-prefixed frames (frame.h), on Asio.
//
// Reads frames one after the other and hands each payload to a callback; a length prefix of 0 or
// above kMaxFrameBytes closes the connection before anything is allocated for it. Writes are
// queued and written in order; if more than `max_backlog` bytes are waiting (a peer that does not
// read), the connection is closed instead of growing the queue. The close callback is called
// exactly once, from the io context, never from inside send() or close(); after it no frame
// callback is called. A graceful close flushes the queue, shuts down the sending side, and waits
// (at most two seconds) for the peer to close its side, so that a last reply is not lost to a
// reset.
//
// Thread-safety: none. Every member, and the callbacks, run on the io context's one thread.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "asio.h"
#include "frame.h"

namespace hush_chat {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using FrameHandler = std::function<void(Bytes payload)>;
  using CloseHandler = std::function<void(const std::string& reason)>;

  Connection(asio::ip::tcp::socket socket, std::size_t max_backlog);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Starts reading. `on_frame` gets each payload; `on_close` the reason the connection ended.
  void start(FrameHandler on_frame, CloseHandler on_close);
  /// Queues one frame carrying `payload` (at most kMaxFrameBytes). Ignored once closing.
  void send(const Bytes& payload);
  /// Closes at once (queued frames are dropped).
  void close(const std::string& reason);
  /// Writes what is queued, then closes.
  void close_after_writes(const std::string& reason);
  /// False once closing has begun.
  bool is_open() const { return state_ == State::kOpen; }
  /// "127.0.0.1:PORT" of the peer, or "?" if unknown.
  const std::string& peer() const { return peer_; }

 private:
  enum class State { kOpen, kFlushing, kDraining, kClosed };
  void read_header();
  void read_body(std::uint32_t size);
  void write_next();
  void finish(const std::string& reason);
  void drain();

  asio::ip::tcp::socket socket_;
  asio::steady_timer linger_;
  std::size_t max_backlog_;
  std::string peer_;
  FrameHandler on_frame_;
  CloseHandler on_close_;
  std::uint8_t header_[4] = {};
  Bytes body_;
  std::deque<Bytes> out_;
  std::size_t out_bytes_ = 0;
  bool writing_ = false;
  State state_ = State::kOpen;
  std::string close_reason_;
};

}  // namespace hush_chat
