// hush chat example: framed connections (see connection.h).
#include "connection.h"

#include <array>
#include <chrono>
#include <utility>

namespace hush_chat {

namespace {
constexpr auto kLinger = std::chrono::seconds(2);
}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, std::size_t max_backlog)
    : socket_(std::move(socket)), linger_(socket_.get_executor()), max_backlog_(max_backlog) {
  asio::error_code ec;
  const auto endpoint = socket_.remote_endpoint(ec);
  peer_ = ec ? "?" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

void Connection::start(FrameHandler on_frame, CloseHandler on_close) {
  on_frame_ = std::move(on_frame);
  on_close_ = std::move(on_close);
  read_header();
}

void Connection::read_header() {
  asio::async_read(socket_, asio::buffer(header_),
                   [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                     if (self->state_ == State::kClosed) return;
                     if (ec) {
                       self->finish(ec == asio::error::eof ? "closed by peer" : ec.message());
                       return;
                     }
                     const auto size = read_length(self->header_);
                     if (!size) {
                       self->finish("frame length out of bounds");
                       return;
                     }
                     self->read_body(*size);
                   });
}

void Connection::read_body(std::uint32_t size) {
  body_.resize(size);
  asio::async_read(
      socket_, asio::buffer(body_),
      [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
        if (self->state_ == State::kClosed) return;
        if (ec) {
          self->finish(ec == asio::error::eof ? "closed by peer in a frame" : ec.message());
          return;
        }
        Bytes payload = std::move(self->body_);
        self->body_.clear();
        if (self->state_ == State::kOpen && self->on_frame_) self->on_frame_(std::move(payload));
        if (self->state_ != State::kClosed) self->read_header();
      });
}

void Connection::send(const Bytes& payload) {
  if (state_ != State::kOpen) return;
  if (payload.empty() || payload.size() > kMaxFrameBytes) {
    close("refusing to send a frame of " + std::to_string(payload.size()) + " bytes");
    return;
  }
  if (out_bytes_ + payload.size() > max_backlog_) {
    close("peer is not reading (write backlog full)");
    return;
  }
  Bytes frame(4 + payload.size());
  put_length(frame.data(), static_cast<std::uint32_t>(payload.size()));
  std::copy(payload.begin(), payload.end(), frame.begin() + 4);
  out_bytes_ += frame.size();
  out_.push_back(std::move(frame));
  if (!writing_) write_next();
}

void Connection::write_next() {
  if (out_.empty()) {
    writing_ = false;
    if (state_ == State::kFlushing) drain();
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(out_.front()),
                    [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                      if (self->state_ == State::kClosed) return;
                      if (ec) {
                        self->finish("write failed: " + ec.message());
                        return;
                      }
                      self->out_bytes_ -= self->out_.front().size();
                      self->out_.pop_front();
                      self->write_next();
                    });
}

void Connection::close(const std::string& reason) {
  if (state_ == State::kClosed) return;
  // Not from inside the caller's stack: the close callback may destroy what called us.
  state_ = State::kClosed;
  close_reason_ = reason;
  asio::error_code ignored;
  socket_.close(ignored);
  linger_.cancel();
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    auto handler = std::move(self->on_close_);
    self->on_close_ = nullptr;
    self->on_frame_ = nullptr;
    if (handler) handler(self->close_reason_);
  });
}

void Connection::close_after_writes(const std::string& reason) {
  if (state_ != State::kOpen) return;
  state_ = State::kFlushing;
  close_reason_ = reason;
  if (!writing_) drain();
}

// Everything is written: stop sending, and wait for the peer to close (its frames are ignored).
void Connection::drain() {
  state_ = State::kDraining;
  asio::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  linger_.expires_after(kLinger);
  linger_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (!ec) self->finish(self->close_reason_);
  });
}

void Connection::finish(const std::string& reason) {
  close(state_ == State::kOpen ? reason : close_reason_);
}

}  // namespace hush_chat
