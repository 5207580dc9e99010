// hush internal: the Messenger's knowledge of device lists (device_list.h): fetching a person's
// list from the directory, checking it against the person's trusted identity and the newest list
// seen, keeping it (MessengerRecordKind::kDeviceList, the signed bytes under the person's name)
// and closing the sessions of devices that left it.
//
// Rules, for a list fetched for `person`: it parses and its signature verifies under the identity
// it names; it names `person`; that identity is the one trusted for the person (for ourselves: our
// own), else kUntrustedIdentity (with the offered key reported) — for a person we know no identity
// for, it becomes the trusted one (trust on first use, in the transaction that keeps the list);
// under the same identity its version is not lower than the newest seen, and the same version
// carries the same bytes (else kStaleDeviceList). A list under a newly trusted identity replaces
// the old one whatever its version.
//
// Not responsible for: publishing our own list (messenger.cpp), trust decisions beyond the rules.
// Thread-safety: not synchronised (one per Messenger).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <hush/address.h>
#include <hush/context.h>
#include <hush/device_list.h>
#include <hush/store.h>
#include <hush/transport.h>

namespace hush::internal {

class DeviceLists {
 public:
  DeviceLists(ProtocolStore& store, KeyDirectory& directory, const Address& self)
      : store_(store), directory_(directory), self_(self) {}

  /// The newest list seen for `person` (from memory, else the store), or nullopt.
  Result<std::optional<DeviceList>> known(std::string_view person);

  /// Fetches `person`'s list and applies the rules above; returns the newest list. If the
  /// directory cannot be reached (or has none) and a list was seen before, returns that one.
  /// Errors: kUntrustedIdentity (`*offered` is set to the list's identity), kStaleDeviceList,
  /// kInvalidMessage (another person's list), the errors of SignedDeviceList::parse, kNoSession
  /// (no list published and none seen), kTransportFailure (directory down and none seen), store
  /// errors.
  Result<DeviceList> refresh(std::string_view person, std::optional<IdentityKey>* offered);

  /// Fetches `person`'s list and checks it by the rules above without keeping anything (the newest
  /// seen if the directory cannot be reached or has none). Errors as for refresh().
  Result<SignedDeviceList> fetch(std::string_view person, std::optional<IdentityKey>* offered);

  /// Keeps `list` as the newest seen for its person (checking it again by the rules), closing the
  /// sessions of devices it no longer has: one transaction, or part of the caller's. The cache
  /// learns it only with `remember`, once that transaction committed.
  Status keep(const SignedDeviceList& list, std::optional<IdentityKey>* offered = nullptr);

  /// Makes the cache hold `list` (kept and committed).
  void remember(const SignedDeviceList& list);

  /// Forgets what is cached in memory for `person` (after a trust change).
  void forget(std::string_view person) {
    if (auto it = cache_.find(person); it != cache_.end()) cache_.erase(it);
  }

 private:
  // Checks `fresh` against the trusted identity and the stored list; with `write`, also keeps it
  // (one transaction).
  Status apply(std::string_view person, const SignedDeviceList& fresh,
               std::optional<IdentityKey>* offered, bool write);

  ProtocolStore& store_;
  KeyDirectory& directory_;
  const Address& self_;
  // The newest list seen per person, as kept (parsed, verified and checked by the rules).
  std::map<std::string, SignedDeviceList, std::less<>> cache_;
};

}  // namespace hush::internal
