/// @file
/// An opt-in adapter that sends the library's log lines to an spdlog logger.
///
/// The hush library itself does not use spdlog, and `<hush/hush.h>` does not include this header:
/// an application that logs through spdlog includes it and links spdlog itself (in CMake,
/// `spdlog::spdlog`). It is header-only on purpose, so that it compiles against the application's
/// own spdlog and fmt; a compiled adapter would tie the installed hush to the spdlog and fmt that
/// hush was built with, whose ABIs change between versions.
///
/// @code{.cpp}
/// #include <hush/spdlog_logger.h>
/// #include <spdlog/sinks/stdout_color_sinks.h>
///
/// hush::Context ctx = hush::default_context();
/// ctx.logger = std::make_shared<hush::SpdlogLogger>(spdlog::stderr_color_mt("hush"));
/// @endcode
///
/// Thread-safety: as thread-safe as the spdlog logger it wraps (spdlog's `_mt` loggers are).
#pragma once

#include <memory>
#include <string_view>
#include <utility>

#include <spdlog/logger.h>

#include <hush/logger.h>

namespace hush {

/// A `Logger` that forwards each line, unformatted, to an spdlog logger at the matching level
/// (warn to `warn`, and so on). Lines below the spdlog logger's level are not even built.
class SpdlogLogger final : public Logger {
 public:
  /// Forwards to `target`; a null `target` drops every line.
  explicit SpdlogLogger(std::shared_ptr<spdlog::logger> target) noexcept
      : target_(std::move(target)) {}

  /// Logs `message` at the spdlog level matching `level`. A line spdlog cannot write (its sinks
  /// failed, or memory ran out) is dropped.
  void log(LogLevel level, std::string_view message) noexcept override {
    if (!target_) return;
    try {
      target_->log(spdlog_level(level), spdlog::string_view_t(message.data(), message.size()));
    } catch (...) {  // NOLINT(bugprone-empty-catch): a log line must never fail an operation
    }
  }

  /// Whether the spdlog logger would write a line at `level`.
  bool enabled(LogLevel level) const noexcept override {
    return target_ && target_->should_log(spdlog_level(level));
  }

  /// The spdlog logger lines go to (null if none was given).
  const std::shared_ptr<spdlog::logger>& target() const noexcept { return target_; }

  /// The spdlog level used for `level`.
  static spdlog::level::level_enum spdlog_level(LogLevel level) noexcept {
    switch (level) {
      case LogLevel::kDebug:
        return spdlog::level::debug;
      case LogLevel::kInfo:
        return spdlog::level::info;
      case LogLevel::kWarn:
        return spdlog::level::warn;
      case LogLevel::kError:
        return spdlog::level::err;
    }
    return spdlog::level::err;
  }

 private:
  std::shared_ptr<spdlog::logger> target_;
};

}  // namespace hush
