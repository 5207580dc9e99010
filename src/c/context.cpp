// hush C API: hush_context.
#include <string>

#include "c/c_internal.h"

namespace hush::c_api {
namespace {

/// Forwards the library's log lines to a C callback.
class CallbackLogger final : public Logger {
 public:
  CallbackLogger(hush_log_fn fn, void* user_data, hush_log_level min_level) noexcept
      : fn_(fn), user_data_(user_data), min_level_(min_level) {}

  void log(LogLevel level, std::string_view message) noexcept override {
    try {
      const std::string line(message);  // NUL-terminated for C
      fn_(user_data_, static_cast<hush_log_level>(level), line.c_str(), line.size());
    } catch (...) {
      // A line that cannot be built is dropped: logging never fails an operation.
    }
  }
  bool enabled(LogLevel level) const noexcept override {
    return static_cast<int>(level) >= static_cast<int>(min_level_);
  }

 private:
  hush_log_fn fn_;
  void* user_data_;
  hush_log_level min_level_;
};

hush_status new_context(const Call& call, hush_log_fn log, void* user_data, int min_level,
                        hush_context** out) {
  if (out == nullptr) return call.null_argument("out");
  *out = nullptr;
  if (min_level < HUSH_LOG_DEBUG || min_level > HUSH_LOG_ERROR)
    return call.fail(HUSH_ERR_INVALID_ARGUMENT, "min_level is not a hush_log_level");
  std::shared_ptr<Logger> logger;
  if (log != nullptr)
    logger =
        std::make_shared<CallbackLogger>(log, user_data, static_cast<hush_log_level>(min_level));
  Context base = default_context();
  *out = new hush_context{logger, Context{base.random, base.clock, logger}};
  return call.ok();
}

}  // namespace
}  // namespace hush::c_api

using hush::c_api::Call;

extern "C" {

hush_status hush_context_new(hush_context** out, hush_error* error) {
  const Call call("hush_context_new", error);
  return call.run(
      [&] { return hush::c_api::new_context(call, nullptr, nullptr, HUSH_LOG_DEBUG, out); });
}

hush_status hush_context_new_with_logger(hush_log_fn log, void* user_data, int min_level,
                                         hush_context** out, hush_error* error) {
  const Call call("hush_context_new_with_logger", error);
  return call.run([&] { return hush::c_api::new_context(call, log, user_data, min_level, out); });
}

void hush_context_free(hush_context* context) {
  delete context;
}

}  // extern "C"
