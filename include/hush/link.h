/// @file
/// Linking a new device to a person, without the existing device ever sending a secret in the
/// clear (Signal's "provisioning").
///
/// 1. The new device makes a LinkRequest: an ephemeral X25519 key pair, a 16-byte secret and a
///    16-byte mailbox id. It shows `code()` to its user (as text and as a QR code) and waits for a
///    link message at the mailbox (through the application's relay; the mailbox id is the only part
///    the relay needs, and the only part it should see).
/// 2. The user enters (or scans) the code on an existing device, whose Messenger::link_device gives
///    the new device an id, publishes the person's new signed device list, and seals a link message
///    for the code: the person's name, the new device id, the identity key pair, the device list,
///    the trusted identities of the person's contacts and the application's own data.
/// 3. The new device opens the link message with its LinkRequest, creates its store with the
///    identity key pair and a registration id of its own, `import_link`s the contacts and the
///    device list, and publishes its own prekeys (Messenger::maintain_keys).
///
/// The link message is sealed with AES-256-GCM under keys derived (HKDF-SHA256) from an X25519
/// agreement between a fresh key of the existing device and the code's ephemeral key, and from the
/// code's secret; the associated data binds both public keys and the mailbox. The code never
/// travels through the relay, so the relay (which carries the link message) can neither read it nor
/// make one the new device accepts: without the secret nothing opens. Whoever sees the code (over
/// the user's shoulder, a photographed QR code) before it is used could make a link message of
/// their own and give the new device an identity of theirs; the new device then shows that
/// identity's safety numbers, and its person's contacts see an unknown key. A LinkRequest is for
/// one use: destroy it (its secrets are wiped) once a link message opened.
///
/// Text form of a code: "HUSHLINK1-" followed by the base32 (RFC 4648 alphabet, no padding) of
/// ephemeral public key (32) || secret (16) || mailbox (16), in groups of 8 separated by '-'.
///
/// Not responsible for: carrying the code or the link message (the application's), choosing the
/// new device's id or publishing the device list (Messenger::link_device).
///
/// Thread-safety: LinkRequest, LinkCode and LinkContents are move-only values.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hush/address.h>
#include <hush/bytes.h>
#include <hush/device_list.h>
#include <hush/keys.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>
#include <hush/store.h>

namespace hush {

/// Where a link message is delivered (public: the relay routes by it).
using LinkMailbox = std::array<std::uint8_t, 16>;

/// What an existing device sends a new one.
struct LinkContents {
  /// The person.
  std::string name;
  /// The new device's id (on `device_list`).
  DeviceId device_id{1};
  /// The person's identity key pair.
  IdentityKeyPair identity;
  /// The person's device list with the new device on it, signed.
  SignedDeviceList device_list;
  /// The people the person trusts, with their identity keys (at most kMaxLinkContacts).
  std::vector<std::pair<std::string, IdentityKey>> contacts;
  /// The application's own data (at most kMaxLinkApplicationDataBytes): account credentials for
  /// the new device, group memberships. Secret while in transit; the library does not read it.
  SecretBytes application_data;
};

/// A code a new device showed, as an existing device reads it.
struct LinkCode {
  /// The new device's ephemeral public key.
  PublicKey ephemeral;
  /// The code's secret (16 bytes).
  SecretArray<16> secret;
  /// Where the link message goes.
  LinkMailbox mailbox{};

  /// Parses the text form (case-insensitive; spaces and dashes ignored). kInvalidArgument for
  /// anything else (a mistyped code).
  static Result<LinkCode> parse(std::string_view text);
};

/// The new device's side of a link. Move-only; its secrets are wiped on destruction.
class LinkRequest {
 public:
  /// A fresh request. kCryptoFailure if `random` fails.
  static Result<LinkRequest> create(RandomSource& random);
  /// The code to show the user (text form above; also what a QR code should carry).
  std::string code() const;
  /// The mailbox the link message will be delivered to.
  const LinkMailbox& mailbox() const noexcept { return mailbox_; }
  /// Opens a link message (untrusted input). Errors: kLimitExceeded (larger than
  /// kMaxLinkMessageBytes, or too many contacts), kInvalidMessage (it does not open under this
  /// request: not for this code, or altered; or its contents break a rule: the identity key pair
  /// does not match, the device is not on the list, the list is another person's), and the errors
  /// of SignedDeviceList::parse for the list inside.
  Result<LinkContents> open(ByteView link_message) const;

  /// The request in a form to keep while waiting (secret: the private key is in it), for a program
  /// that exits between showing the code and receiving the message (hush-cli).
  SecretBytes serialize() const;
  /// Restores a serialized request. kInvalidArgument if it is not one.
  static Result<LinkRequest> deserialize(ByteView data);

  /// Takes the request over; the source's secrets are left wiped.
  LinkRequest(LinkRequest&&) noexcept = default;
  /// Takes the request over, overwriting this object's old secrets; the source's are wiped.
  LinkRequest& operator=(LinkRequest&&) noexcept = default;

 private:
  LinkRequest(KeyPair ephemeral, SecretArray<16> secret, LinkMailbox mailbox)
      : ephemeral_(std::move(ephemeral)), secret_(std::move(secret)), mailbox_(mailbox) {}
  KeyPair ephemeral_;
  SecretArray<16> secret_;
  LinkMailbox mailbox_{};
};

/// Seals `contents` for the device that showed `code` (the existing device's side; the Messenger's
/// link_device calls it). Errors: kInvalidArgument (contents that break a rule of open()),
/// kLimitExceeded, kCryptoFailure.
Result<Bytes> seal_link_message(RandomSource& random, const LinkCode& code,
                                const LinkContents& contents);

/// Stores what a link message brought into the new device's store, in one transaction: the
/// contacts' identities (as trusted) and the person's device list (as the newest seen). The store
/// must have been created with `contents.identity` (else kInvalidArgument). Errors: those of the
/// store.
Status import_link(ProtocolStore& store, const LinkContents& contents);

}  // namespace hush
