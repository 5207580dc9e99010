// hush-cli: device lists as a state directory keeps them (see devices.h).
#include "devices.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "state.h"

namespace hush_cli {

namespace {

constexpr hush::MessengerRecordKind kList = hush::MessengerRecordKind::kDeviceList;

// Stores `list` as the newest of its person, closing the sessions of the devices of `old` that are
// not on it (never our own device's: we have no session with ourselves).
void store_list(hush::SqliteStore& store, const hush::Address& self,
                const hush::SignedDeviceList& list, const hush::DeviceList* old,
                std::string_view what) {
  const std::string& person = list.list().name;
  check(store.store_messenger_record(kList, person, list.serialized()), what);
  if (old == nullptr) return;
  for (const hush::DeviceId device : old->devices) {
    if (list.list().contains(device)) continue;
    if (person == self.name && device == self.device_id) continue;
    check(hush::reset_session(store, hush::Address{person, device}), what);
  }
}

}  // namespace

std::optional<hush::SignedDeviceList> stored_device_list(hush::SqliteStore& store,
                                                         std::string_view person) {
  constexpr std::string_view kWhat = "device list";
  auto bytes = check(store.load_messenger_record(kList, person), kWhat);
  if (!bytes) return std::nullopt;
  auto parsed = hush::SignedDeviceList::parse(bytes->expose());
  if (!parsed) fail_protocol(hush::Errc::kCorruptState, "the stored list does not parse", kWhat);
  if (parsed->list().name != person)
    fail_protocol(hush::Errc::kCorruptState, "the stored list names another person", kWhat);
  return std::move(*parsed);
}

hush::SignedDeviceList first_device_list(const std::string& name,
                                         const hush::IdentityKeyPair& identity) {
  hush::DeviceList first;
  first.name = name;
  first.identity = identity.public_key;
  first.version = 1;
  first.devices = {hush::DeviceId{1}};
  first.next_device_id = hush::DeviceId{2};
  hush::RandomSource& random = hush::system_random();
  return check(hush::SignedDeviceList::sign(random, std::move(first), identity),
               "first device list");
}

void import_device_list(hush::SqliteStore& store, const hush::Address& self,
                        std::string_view person, const hush::SignedDeviceList& list) {
  constexpr std::string_view kWhat = "devices --import";
  const hush::DeviceList& fresh = list.list();
  if (fresh.name != person)
    fail_protocol(hush::Errc::kInvalidMessage, "the list names another person", kWhat);
  check(store.run_transaction([&]() -> hush::Status {
    if (person == self.name) {
      const hush::IdentityKeyPair ours = check(store.identity_key_pair(), kWhat);
      if (!(ours.public_key == fresh.identity))
        fail_protocol(hush::Errc::kUntrustedIdentity,
                      "our name's list is signed by another identity", kWhat);
    } else {
      const auto trusted = check(store.identity(person), kWhat);
      if (trusted && !(*trusted == fresh.identity))
        fail_protocol(hush::Errc::kUntrustedIdentity,
                      "signed by another identity than the trusted one", kWhat);
      const bool allowed = check(
          store.is_trusted_identity(person, fresh.identity, hush::Direction::kSending), kWhat);
      if (!allowed)
        fail_protocol(hush::Errc::kUntrustedIdentity, "the identity is not trusted", kWhat);
      // Trust on first use, in the transaction that keeps the list.
      if (!trusted) check(store.save_identity(person, fresh.identity), kWhat);
    }
    const auto stored = stored_device_list(store, person);
    const hush::DeviceList* old = nullptr;
    if (stored && stored->list().identity == fresh.identity) {
      old = &stored->list();
      if (fresh.version < old->version)
        fail_protocol(hush::Errc::kStaleDeviceList, "older than the stored list", kWhat);
      if (fresh.version == old->version) {
        if (stored->serialized() == list.serialized()) return hush::ok_status();  // already kept
        fail_protocol(hush::Errc::kStaleDeviceList, "another list with the stored list's version",
                      kWhat);
      }
    }
    // A list under a newly trusted identity replaces the old one whatever its version (the old
    // identity's sessions were closed when the new one was trusted).
    store_list(store, self, list, old, kWhat);
    return hush::ok_status();
  }),
        kWhat);
}

hush::DeviceList own_list_to_change(hush::SqliteStore& store, const hush::Address& self) {
  constexpr std::string_view kWhat = "device list";
  const auto stored = stored_device_list(store, self.name);
  hush::DeviceList list;
  if (stored) {
    list = stored->list();
  } else if (self.device_id == hush::DeviceId{1}) {
    // A device 1 made before device lists: nobody has seen a list of this person yet.
    list.name = self.name;
    list.identity = check(store.identity_key_pair(), kWhat).public_key;
    list.version = 1;
    list.devices = {hush::DeviceId{1}};
    list.next_device_id = hush::DeviceId{2};
  } else {
    fail_usage("this state has no device list of ours (made by init --device-id " +
               std::to_string(hush::to_uint(self.device_id)) +
               "); only a device made by init or link --accept has one");
  }
  if (!list.contains(self.device_id))
    fail_protocol(hush::Errc::kUnknownDevice, "this device is not on our device list", kWhat);
  return list;
}

hush::SignedDeviceList store_own_list(hush::SqliteStore& store, const hush::Address& self,
                                      hush::DeviceList next) {
  constexpr std::string_view kWhat = "device list";
  const hush::IdentityKeyPair identity = check(store.identity_key_pair(), kWhat);
  hush::RandomSource& random = hush::system_random();
  hush::SignedDeviceList list =
      check(hush::SignedDeviceList::sign(random, std::move(next), identity), kWhat);
  check(store.run_transaction([&]() -> hush::Status {
    const auto stored = stored_device_list(store, self.name);
    if (stored && list.list().version <= stored->list().version)
      fail_protocol(hush::Errc::kStaleDeviceList, "not newer than the stored list", kWhat);
    store_list(store, self, list, stored ? &stored->list() : nullptr, kWhat);
    return hush::ok_status();
  }),
        kWhat);
  return list;
}

void check_listed(hush::SqliteStore& store, const hush::Address& device, std::string_view what) {
  const auto stored = stored_device_list(store, device.name);
  if (stored && !stored->list().contains(device.device_id))
    fail_protocol(hush::Errc::kUnknownDevice,
                  "the device is not on its person's stored device list", what);
}

}  // namespace hush_cli
