// hush internal: helpers between generated protobuf messages and hush types.
//
// Generated types never reach include/. Secret fields are copied out into SecretArray/SecretBytes
// and wiped in the message before it is destroyed (`wipe()`); this is best effort, as protobuf may
// have made copies (small-string buffers, reallocation) that cannot be reached.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <google/protobuf/message_lite.h>

#include <hush/bytes.h>
#include <hush/keys.h>
#include <hush/secret.h>

namespace hush::internal {

/// Copies a bytes field of exactly N bytes into `out`; false for any other length.
template <std::size_t N>
bool read_fixed(const std::string& field, std::array<std::uint8_t, N>& out) {
  if (field.size() != N) return false;
  std::copy(field.begin(), field.end(), out.begin());
  return true;
}

/// Copies a bytes field of exactly N bytes into a secret; false for any other length.
template <std::size_t N>
bool read_secret(const std::string& field, SecretArray<N>& out) {
  return SecretArray<N>::from(as_bytes(field), out);
}

/// The field value for raw bytes.
inline std::string to_field(ByteView bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

/// Overwrites a string field's bytes with zeros (best effort; see the header comment).
inline void wipe(std::string* field) {
  if (field != nullptr && !field->empty())
    secure_wipe({reinterpret_cast<std::uint8_t*>(field->data()), field->size()});
}

/// Serializes `message` into a SecretBytes of exactly its size.
inline SecretBytes serialize_to_secret(const google::protobuf::MessageLite& message) {
  SecretBytes out(message.ByteSizeLong());
  if (!out.empty()) {
    message.SerializeWithCachedSizesToArray(out.expose_mut().data());
  }
  return out;
}

/// Parses `data` into `message`; false if it does not parse or is too large for protobuf's int.
inline bool parse_from(google::protobuf::MessageLite& message, ByteView data) {
  if (data.size() > static_cast<std::size_t>(INT32_MAX)) return false;
  return message.ParseFromArray(data.data(), static_cast<int>(data.size()));
}

}  // namespace hush::internal
