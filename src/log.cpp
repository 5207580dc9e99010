// hush internal: redaction and warning helpers, and the names of log levels.
#include "log.h"

#include <array>

#include <hush/random.h>
#include <hush/secret.h>
#include "crypto/hash.h"
#include "crypto/kdf.h"

namespace hush::internal {

namespace {
// The redaction key: random per process, set once, immutable afterwards.
const SecretArray<32>& redaction_key() {
  static const SecretArray<32> key = [] {
    SecretArray<32> k;
    (void)system_random().fill(k.expose_mut());  // on failure, tags are merely linkable
    return k;
  }();
  return key;
}
}  // namespace

std::string redact(const Address& address) {
  crypto::HmacSha256 hmac;
  std::array<std::uint8_t, 32> tag{};
  hmac.mac(redaction_key().expose(), as_bytes(address.name), tag);
  return "d" + std::to_string(to_uint(address.device_id)) + ":" + to_hex(ByteView(tag.data(), 4));
}

std::string key_tag(const PublicKey& key) {
  const auto digest = crypto::sha256(key.u());
  return to_hex(ByteView(digest.data(), 4));
}

void warn_failure(const Context& ctx, const char* operation, const Address& remote,
                  const Error& error) {
  if (!ctx.logger || !ctx.logger->enabled(LogLevel::kWarn)) return;
  std::string line = operation;
  line += " with ";
  line += redact(remote);
  line += " failed: ";
  line += to_string(error.code());
  line += " (";
  line += error.where();
  line += ")";
  ctx.logger->log(LogLevel::kWarn, line);
}

}  // namespace hush::internal

namespace hush {

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace hush
