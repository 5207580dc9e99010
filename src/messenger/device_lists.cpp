// hush internal: the Messenger's device lists (see device_lists.h).
#include "messenger/device_lists.h"

#include <algorithm>

#include <hush/session.h>

namespace hush::internal {

namespace {

Result<std::optional<SignedDeviceList>> load_stored(ProtocolStore& store, std::string_view person) {
  auto bytes = store.load_messenger_record(MessengerRecordKind::kDeviceList, person);
  if (!bytes) return bytes.error();
  if (!*bytes) return std::optional<SignedDeviceList>();
  auto parsed = SignedDeviceList::parse((*bytes)->expose());
  if (!parsed) return Error(Errc::kCorruptState, "device lists: stored list does not parse");
  if (parsed->list().name != person)
    return Error(Errc::kCorruptState, "device lists: stored list of another person");
  return std::optional<SignedDeviceList>(std::move(*parsed));
}

}  // namespace

Result<std::optional<DeviceList>> DeviceLists::known(std::string_view person) {
  if (auto it = cache_.find(person); it != cache_.end())
    return std::optional<DeviceList>(it->second.list());
  auto stored = load_stored(store_, person);
  if (!stored) return stored.error();
  if (!*stored) return std::optional<DeviceList>();
  auto it = cache_.insert_or_assign(std::string(person), std::move(**stored)).first;
  return std::optional<DeviceList>(it->second.list());
}

Result<SignedDeviceList> DeviceLists::fetch(std::string_view person,
                                            std::optional<IdentityKey>* offered) {
  auto fetched = directory_.fetch_device_list(person);
  if (!fetched || !*fetched) {
    // Down, or it has none: the newest list seen still holds (a directory that withholds the
    // list can only keep new devices from being reached, not bring removed ones back).
    auto stored = load_stored(store_, person);
    if (!stored) return stored.error();
    if (*stored) return std::move(**stored);
    if (!fetched) return fetched.error();
    return Error(Errc::kNoSession, "device lists: the person has no device list");
  }
  // The newest list seen, served again (what every send meets: it fetches both people's lists):
  // those bytes were parsed, verified and checked when the list was kept, so they are not parsed
  // again (a signature verification, most of what a send to one device cost).
  if (auto it = cache_.find(person); it != cache_.end() && it->second.serialized() == **fetched)
    return it->second;
  auto parsed = SignedDeviceList::parse(**fetched);
  if (!parsed) return parsed.error();
  if (parsed->list().name != person)
    return Error(Errc::kInvalidMessage, "device lists: a list of another person");
  if (auto st = apply(person, *parsed, offered, false); !st) return st.error();
  return std::move(*parsed);
}

Result<DeviceList> DeviceLists::refresh(std::string_view person,
                                        std::optional<IdentityKey>* offered) {
  auto fresh = fetch(person, offered);
  if (!fresh) return fresh.error();
  if (auto it = cache_.find(person);
      it != cache_.end() && it->second.serialized() == fresh->serialized())
    return it->second.list();
  if (auto st = keep(*fresh, offered); !st) return st.error();
  remember(*fresh);
  return fresh->list();
}

Status DeviceLists::keep(const SignedDeviceList& list, std::optional<IdentityKey>* offered) {
  return apply(list.list().name, list, offered, true);
}

void DeviceLists::remember(const SignedDeviceList& list) {
  cache_.insert_or_assign(list.list().name, list);
}

Status DeviceLists::apply(std::string_view person, const SignedDeviceList& fresh,
                          std::optional<IdentityKey>* offered, bool write) {
  const DeviceList& list = fresh.list();
  std::vector<DeviceId> removed;
  auto st = store_.run_transaction([&]() -> Status {
    removed.clear();
    if (person == self_.name) {
      auto ours = store_.identity_key_pair();
      if (!ours) return ours.error();
      if (!(ours->public_key == list.identity))
        return Error(Errc::kUnknownDevice,
                     "device lists: our name's list is signed by another identity");
    } else {
      auto trusted = store_.identity(person);
      if (!trusted) return trusted.error();
      if (*trusted && !(**trusted == list.identity)) {
        if (offered != nullptr) *offered = list.identity;
        return Error(Errc::kUntrustedIdentity, "device lists: signed by another identity");
      }
      auto allowed = store_.is_trusted_identity(person, list.identity, Direction::kSending);
      if (!allowed) return allowed.error();
      if (!*allowed) {
        if (offered != nullptr) *offered = list.identity;
        return Error(Errc::kUntrustedIdentity, "device lists: identity not trusted");
      }
      if (!*trusted && write) {
        auto saved = store_.save_identity(person, list.identity);
        if (!saved) return saved.error();
      }
    }
    auto stored = load_stored(store_, person);
    if (!stored) return stored.error();
    if (*stored && (*stored)->list().identity == list.identity) {
      const DeviceList& old = (*stored)->list();
      if (list.version < old.version)
        return Error(Errc::kStaleDeviceList, "device lists: older than the newest seen");
      if (list.version == old.version) {
        if ((*stored)->serialized() == fresh.serialized()) return ok_status();
        return Error(Errc::kStaleDeviceList, "device lists: another list with the same version");
      }
      for (DeviceId d : old.devices)
        if (!list.contains(d)) removed.push_back(d);
    }
    if (!write) return ok_status();
    // A list under a newly trusted identity replaces the old one whatever its version; the old
    // identity's sessions were closed when the new one was trusted (trust_identity), and those made
    // since are with the new identity, so none is closed here.
    if (auto s = store_.store_messenger_record(MessengerRecordKind::kDeviceList, person,
                                               fresh.serialized());
        !s)
      return s;
    for (DeviceId d : removed) {
      if (person == self_.name && d == self_.device_id) continue;
      if (auto s = reset_session(store_, Address{std::string(person), d}); !s) return s;
    }
    return ok_status();
  });
  return st;
}

}  // namespace hush::internal
