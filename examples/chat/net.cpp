// hush chat example: hush-chat's I/O thread (see net.h).
#include "net.h"

#include <signal.h>
#include <unistd.h>

#include <utility>

namespace hush_chat {

namespace {
// A client reads what the relay sends at once; the backlog is only our own requests.
constexpr std::size_t kMaxBacklog = std::size_t{4} << 20;
}  // namespace

void EventQueue::push(Event e) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(std::move(e));
  }
  cv_.notify_one();
}

std::optional<Event> EventQueue::pop(std::optional<Clock::time_point> deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto ready = [this] { return !events_.empty(); };
  if (deadline) {
    if (!cv_.wait_until(lock, *deadline, ready)) return std::nullopt;
  } else {
    cv_.wait(lock, ready);
  }
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

Net::Net(EventQueue& events)
    : events_(events),
      work_(asio::make_work_guard(io_)),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      ping_timer_(io_) {}

Net::~Net() {
  stop();
}

void Net::start(bool read_stdin_too) {
  watch_signals();
  if (read_stdin_too) {
    // A duplicate, so that closing ours leaves descriptor 0 alone. (Asio makes the descriptor
    // non-blocking, which is shared with descriptor 0: main() restores the flags at exit.)
    const int fd = ::dup(STDIN_FILENO);
    if (fd < 0) {
      events_.push(Event{Event::Type::kInputEnd, 0, {}, "cannot read standard input"});
    } else {
      stdin_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
      read_stdin();
    }
  }
  thread_ = std::thread([this] { io_.run(); });
}

void Net::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    if (conn_) conn_->close("stopping");
    conn_.reset();
    ping_timer_.cancel();
    asio::error_code ignored;
    signals_.cancel(ignored);
    if (stdin_) stdin_->close(ignored);
    work_.reset();
    io_.stop();
  });
  thread_.join();
}

void Net::watch_signals() {
  signals_.async_wait([this](const asio::error_code& ec, int number) {
    if (ec) return;
    events_.push(Event{Event::Type::kSignal, 0, {}, std::to_string(number)});
    watch_signals();
  });
}

void Net::read_stdin() {
  stdin_->async_read_some(
      asio::buffer(stdin_buffer_), [this](const asio::error_code& ec, std::size_t n) {
        if (ec == asio::error::operation_aborted) return;
        if (n > 0)
          events_.push(Event{Event::Type::kInput, 0, Bytes(stdin_buffer_, stdin_buffer_ + n), {}});
        if (ec) {
          events_.push(
              Event{Event::Type::kInputEnd, 0, {}, ec == asio::error::eof ? "" : ec.message()});
          return;
        }
        read_stdin();
      });
}

std::uint64_t Net::connect(const std::string& host, const std::string& port,
                           std::chrono::milliseconds timeout) {
  const std::uint64_t generation = ++next_generation_;
  asio::post(io_, [this, host, port, timeout, generation] {
    if (conn_) conn_->close("reconnecting");
    conn_.reset();
    ping_timer_.cancel();
    conn_generation_ = generation;
    struct Attempt {
      asio::ip::tcp::resolver resolver;
      asio::ip::tcp::socket socket;
      asio::steady_timer timer;
      bool done = false;
      explicit Attempt(asio::io_context& io) : resolver(io), socket(io), timer(io) {}
    };
    auto attempt = std::make_shared<Attempt>(io_);
    auto fail = [this, attempt, generation](const std::string& why) {
      if (attempt->done) return;
      attempt->done = true;
      attempt->timer.cancel();
      events_.push(Event{Event::Type::kConnectFailed, generation, {}, why});
    };
    attempt->timer.expires_after(timeout);
    attempt->timer.async_wait([attempt, fail](const asio::error_code& ec) {
      if (ec) return;
      asio::error_code ignored;
      attempt->resolver.cancel();
      attempt->socket.close(ignored);
      fail("timed out");
    });
    attempt->resolver.async_resolve(
        host, port,
        [this, attempt, fail, generation](const asio::error_code& ec,
                                          const asio::ip::tcp::resolver::results_type& results) {
          if (ec) {
            fail(ec.message());
            return;
          }
          asio::async_connect(
              attempt->socket, results,
              [this, attempt, fail, generation](const asio::error_code& ec2,
                                                const asio::ip::tcp::endpoint&) {
                if (ec2) {
                  fail(ec2.message());
                  return;
                }
                if (attempt->done || generation != conn_generation_) return;
                attempt->done = true;
                attempt->timer.cancel();
                conn_ = std::make_shared<Connection>(std::move(attempt->socket), kMaxBacklog);
                conn_->start(
                    [this, generation](Bytes payload) {
                      events_.push(Event{Event::Type::kFrame, generation, std::move(payload), {}});
                    },
                    [this, generation](const std::string& why) {
                      events_.push(Event{Event::Type::kClosed, generation, {}, why});
                    });
                events_.push(Event{Event::Type::kConnected, generation, {}, {}});
              });
        });
  });
  return generation;
}

void Net::send(std::uint64_t generation, Bytes payload) {
  asio::post(io_, [this, generation, payload = std::move(payload)] {
    if (conn_ && conn_generation_ == generation) conn_->send(payload);
  });
}

void Net::close(std::uint64_t generation, bool graceful) {
  asio::post(io_, [this, generation, graceful] {
    if (!conn_ || conn_generation_ != generation) return;
    if (graceful) {
      conn_->close_after_writes("closed by us");
    } else {
      conn_->close("closed by us");
    }
  });
}

void Net::keep_alive(std::uint64_t generation, std::chrono::milliseconds interval) {
  asio::post(io_, [this, generation, interval] {
    if (conn_generation_ == generation) ping_later(generation, interval);
  });
}

void Net::ping_later(std::uint64_t generation, std::chrono::milliseconds interval) {
  ping_timer_.expires_after(interval);
  ping_timer_.async_wait([this, generation, interval](const asio::error_code& ec) {
    if (ec || !conn_ || conn_generation_ != generation || !conn_->is_open()) return;
    Message ping;
    ping.kind = Kind::kPing;
    ping.req = 0;  // never a request of the main thread's: its reply is ignored
    conn_->send(encode(ping));
    ping_later(generation, interval);
  });
}

}  // namespace hush_chat
