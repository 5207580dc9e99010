/// @file
/// Addresses of remote devices.
///
/// An `Address` is (name, device id), as in Signal. The name is a person; the device id one of
/// their devices. Sessions are kept per Address; identities and trust per person (the name: every
/// device of a person shares the person's identity key, see store.h). Addresses come from the
/// application or the transport and are never authenticated by themselves: the session's identity
/// key is what authenticates a peer.
///
/// Thread-safety: plain values.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace hush {

/// A device number within one name (Signal's device id). Strongly typed so that it cannot be mixed
/// up with registration ids or prekey ids.
enum class DeviceId : std::uint32_t {};

/// The raw number of a DeviceId.
constexpr std::uint32_t to_uint(DeviceId id) noexcept {
  return static_cast<std::uint32_t>(id);
}

/// One remote (or local) device: a name (a user handle, phone number, UUID...) and a device id.
struct Address {
  /// The user-level name. Any bytes; compared exactly.
  std::string name;
  /// The device within that name.
  DeviceId device_id{1};

  /// Orders by name (bytewise), then device id, so that Address can key a std::map.
  friend auto operator<=>(const Address&, const Address&) = default;
  /// Equal when both the name and the device id are equal.
  friend bool operator==(const Address&, const Address&) = default;
};

/// Hashes an Address (for unordered containers).
struct AddressHash {
  /// A hash of the name and the device id.
  std::size_t operator()(const Address& a) const noexcept {
    return std::hash<std::string>{}(a.name) * 31u +
           std::hash<std::uint32_t>{}(to_uint(a.device_id));
  }
};

}  // namespace hush
