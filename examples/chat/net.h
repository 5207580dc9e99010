// hush chat example: hush-chat's I/O thread.
//
// hush::Messenger is synchronous: when it fetches a bundle or sends an envelope it waits for the
// answer. So hush-chat runs the Messenger, its store and all output on the main thread, and all
// I/O on one Asio thread: the relay connection (frames, connection.h), standard input and
// signals. The I/O thread turns everything into Events in a queue; the main thread takes them out,
// and while it waits for a reply to a request it sets other events aside (Client::request).
// Commands go the other way by posting to the I/O thread (send, connect, close).
//
// Each connection attempt has a generation number, carried by its events, so that late events of
// an old connection are recognised and dropped.
//
// Keepalive: the relay closes a connection that sends nothing for its idle timeout (its WELCOME
// says how long). The I/O thread, not the main thread, sends the pings (a kPing every
// `keep_alive` interval), so that they go out even while the main thread waits in a command
// (/wait) or for the user. Their kOk replies carry request number 0, which the client never uses,
// and are ignored.
//
// Thread-safety: EventQueue is thread-safe. Net's public members are called from the main
// thread only; they post to the I/O thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "asio.h"
#include "connection.h"
#include "frame.h"

namespace hush_chat {

using Clock = std::chrono::steady_clock;

struct Event {
  enum class Type {
    kConnected,      // connection `generation` is up
    kConnectFailed,  // connection `generation` could not be made (text: why)
    kFrame,          // a frame on connection `generation` (data: the payload)
    kClosed,         // connection `generation` ended (text: why)
    kInput,          // bytes from standard input (data)
    kInputEnd,       // standard input is at its end (or failed)
    kSignal,         // SIGINT, SIGTERM or SIGHUP
  };
  Type type = Type::kSignal;
  std::uint64_t generation = 0;
  Bytes data;
  std::string text;
};

class EventQueue {
 public:
  void push(Event e);
  /// The oldest event, waiting until `deadline` (nullopt: forever); nullopt on timeout.
  std::optional<Event> pop(std::optional<Clock::time_point> deadline);

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Event> events_;
};

class Net {
 public:
  explicit Net(EventQueue& events);
  ~Net();
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  /// Starts the I/O thread: signals, and standard input if `read_stdin`.
  void start(bool read_stdin);
  /// Stops the I/O thread (idempotent).
  void stop();
  /// Closes any current connection and connects to host:port; returns the new generation. Its
  /// outcome is a kConnected or kConnectFailed event (after at most `timeout`).
  std::uint64_t connect(const std::string& host, const std::string& port,
                        std::chrono::milliseconds timeout);
  /// Sends a frame on connection `generation`, if it is still the current one.
  void send(std::uint64_t generation, Bytes payload);
  /// Closes connection `generation`: at once, or after writing what is queued.
  void close(std::uint64_t generation, bool graceful);
  /// Sends a kPing on connection `generation` every `interval` from now on, while it is current.
  void keep_alive(std::uint64_t generation, std::chrono::milliseconds interval);

 private:
  void read_stdin();
  void watch_signals();
  void ping_later(std::uint64_t generation, std::chrono::milliseconds interval);

  EventQueue& events_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::signal_set signals_;
  std::unique_ptr<asio::posix::stream_descriptor> stdin_;
  std::uint8_t stdin_buffer_[4096] = {};
  // I/O thread only:
  asio::steady_timer ping_timer_;
  std::shared_ptr<Connection> conn_;
  std::uint64_t conn_generation_ = 0;
  // Main thread only:
  std::uint64_t next_generation_ = 0;
  std::thread thread_;
};

}  // namespace hush_chat
