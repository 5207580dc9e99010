/// @file
/// A person's device list, signed with the person's identity key.
///
/// A person (a name) has devices 1..N (at most kMaxDevicesPerPerson), each with its own
/// registration id, prekeys and sessions, and all holding the person's identity key pair. Which
/// devices a person has is what the device list says: the person's identity key signs it, and its
/// version grows by one with every change. A sender encrypts a message once per device on the list
/// and refuses a list older than one it has seen (kStaleDeviceList), so a directory can neither add
/// a device to someone (it cannot sign) nor silently bring a removed one back (it cannot roll the
/// list back). Signal's server keeps this list unsigned; hush does not trust the server with it.
///
/// What a directory can still do: withhold the newest list (a sender then keeps using the newest it
/// has seen: a device added since gets nothing from it until the directory serves the new list),
/// and withhold delivery. What a removed device can still do: it held the identity key pair, so if
/// it is in an attacker's hands it can sign lists of its own; only a new identity (an identity
/// change every contact sees) shuts it out for good.
///
/// Wire form (hush's own, proto/envelope.proto): SignedDeviceList { list, signature }, the list
/// bytes being DeviceList { format, name, identity_key, version, devices, next_device_id } and the
/// signature `curve25519_sign` by the identity key over "hush device list v1" || 0x00 || list.
///
/// Not responsible for: fetching or publishing (transport.h's KeyDirectory), keeping the newest
/// seen list per person and trusting its key (messenger.h).
///
/// Thread-safety: DeviceList and SignedDeviceList are plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <hush/address.h>
#include <hush/bytes.h>
#include <hush/keys.h>
#include <hush/random.h>
#include <hush/result.h>

namespace hush {

/// Which devices a person has.
struct DeviceList {
  /// The person.
  std::string name;
  /// The person's identity key, which signs the list.
  IdentityKey identity;
  /// 1 for a person's first list; one more with every change.
  std::uint64_t version = 1;
  /// The devices, strictly ascending, 1 to kMaxDevicesPerPerson of them.
  std::vector<DeviceId> devices;
  /// Greater than every device id the person ever used: the id the next linked device gets.
  /// Device ids are never reused, so a session with a removed device never meets a new one.
  DeviceId next_device_id{2};

  /// Whether `device` is on the list.
  bool contains(DeviceId device) const noexcept;
  /// Checks the rules above (and the name's length). kInvalidArgument for an empty name or list,
  /// devices out of order or repeated, a device id of 0 or not below next_device_id, version 0;
  /// kLimitExceeded for more than kMaxDevicesPerPerson devices or a name longer than
  /// kMaxAddressNameBytes.
  Status check() const;
  /// Equal when every field is equal.
  friend bool operator==(const DeviceList&, const DeviceList&) = default;
};

/// A device list with its signature by the person's identity key, as a directory serves it.
class SignedDeviceList {
 public:
  /// Signs `list` with `identity` (whose public key must be `list.identity`: else
  /// kInvalidArgument), after list.check(). kCryptoFailure if `random` fails.
  static Result<SignedDeviceList> sign(RandomSource& random, DeviceList list,
                                       const IdentityKeyPair& identity);
  /// Parses a signed list (untrusted input) and verifies its signature under the identity key it
  /// names: a parsed list is authentic for that key; whether that key is the person's is for the
  /// caller to decide. Errors: kLimitExceeded (larger than kMaxDeviceListBytes, or too many
  /// devices), kInvalidProtobuf, kInvalidMessage (unknown format, missing fields, a list that
  /// breaks DeviceList::check's rules, a non-canonical encoding), kInvalidKey,
  /// kInvalidSignature.
  static Result<SignedDeviceList> parse(ByteView serialized);

  /// The list.
  const DeviceList& list() const noexcept { return list_; }
  /// The wire form (what parse() read, or what sign() made).
  const Bytes& serialized() const noexcept { return serialized_; }
  /// Equal when the wire forms are byte for byte equal (the same list with the same signature).
  friend bool operator==(const SignedDeviceList& a, const SignedDeviceList& b) {
    return a.serialized_ == b.serialized_;
  }

 private:
  SignedDeviceList(DeviceList list, Bytes serialized)
      : list_(std::move(list)), serialized_(std::move(serialized)) {}
  DeviceList list_;
  Bytes serialized_;
};

}  // namespace hush
