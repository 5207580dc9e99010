// hush tests: the in-process network (see loopback.h).
#include "support/loopback.h"

#include <algorithm>

namespace hush::test {

Status LoopbackNetwork::Port::send(const Address& recipient, ByteView envelope) {
  if (net_.down) return Error(Errc::kTransportFailure, "loopback: down");
  ++net_.sends;
  net_.queues_[recipient].emplace_back(envelope.begin(), envelope.end());
  net_.traffic_.emplace_back(envelope.begin(), envelope.end());
  return ok_status();
}

Status LoopbackNetwork::publish(const Address& self, const PublishedKeys& keys) {
  if (down || publish_down) return Error(Errc::kTransportFailure, "loopback: down");
  // What a server receives is bytes: go through the wire format.
  auto parsed = PublishedKeys::parse(keys.serialize());
  if (!parsed) return parsed.error();
  Entry& e = directory_[self];
  // Another identity under this address (a reinstall): the old one's prekeys are useless.
  if (e.keys.identity_key.u() != parsed->identity_key.u()) {
    e.pre_keys.clear();
    e.kyber_pre_keys.clear();
    e.keys.last_resort_kyber_pre_key.reset();
  }
  // Idempotent per prekey id (KeyDirectory::publish): a repeated id replaces, never adds.
  for (const auto& k : parsed->pre_keys) {
    auto same = std::find_if(e.pre_keys.begin(), e.pre_keys.end(),
                             [&](const auto& held) { return held.first == k.first; });
    if (same != e.pre_keys.end())
      *same = k;
    else
      e.pre_keys.push_back(k);
  }
  for (auto& k : parsed->kyber_pre_keys) {
    auto same = std::find_if(e.kyber_pre_keys.begin(), e.kyber_pre_keys.end(),
                             [&](const auto& held) { return held.id == k.id; });
    if (same != e.kyber_pre_keys.end())
      *same = k;
    else
      e.kyber_pre_keys.push_back(k);
  }
  traffic_.push_back(keys.serialize());
  parsed->pre_keys.clear();
  parsed->kyber_pre_keys.clear();
  // Absent: the device published no Kyber prekeys this time; the one held stays.
  if (!parsed->last_resort_kyber_pre_key)
    parsed->last_resort_kyber_pre_key = e.keys.last_resort_kyber_pre_key;
  e.keys = *parsed;
  ++publishes;
  return ok_status();
}

Result<AvailablePreKeys> LoopbackNetwork::available_pre_keys(const Address& self) {
  if (down) return Error(Errc::kTransportFailure, "loopback: down");
  auto it = directory_.find(self);
  if (it == directory_.end()) return AvailablePreKeys{};
  return AvailablePreKeys{static_cast<std::uint32_t>(it->second.pre_keys.size()),
                          static_cast<std::uint32_t>(it->second.kyber_pre_keys.size())};
}

Result<PreKeyBundle> LoopbackNetwork::fetch(const Address& remote) {
  if (down) return Error(Errc::kTransportFailure, "loopback: down");
  if (substitute) {
    if (auto b = substitute(remote)) return PreKeyBundle::parse(b->serialize());
  }
  auto it = directory_.find(remote);
  if (it == directory_.end()) return Error(Errc::kNoSession, "loopback: unknown address");
  std::optional<std::pair<PreKeyId, PublicKey>> otk;
  if (!it->second.pre_keys.empty()) {
    otk = it->second.pre_keys.front();
    it->second.pre_keys.pop_front();
  }
  std::optional<SignedKyberPreKey> kyber = it->second.keys.last_resort_kyber_pre_key;
  if (!it->second.kyber_pre_keys.empty()) {
    kyber = it->second.kyber_pre_keys.front();
    it->second.kyber_pre_keys.pop_front();
  }
  return PreKeyBundle::parse(it->second.keys.bundle(otk, kyber).serialize());
}

Status LoopbackNetwork::publish_device_list(std::string_view name, ByteView signed_list) {
  if (down || publish_down) return Error(Errc::kTransportFailure, "loopback: down");
  auto fresh = SignedDeviceList::parse(signed_list);
  if (!fresh) return fresh.error();
  if (fresh->list().name != name) return Error(Errc::kInvalidMessage, "loopback: list name");
  if (auto it = lists_.find(name); it != lists_.end()) {
    auto held = SignedDeviceList::parse(it->second);
    if (held && held->list().identity == fresh->list().identity &&
        fresh->list().version <= held->list().version)
      return Error(Errc::kStaleDeviceList, "loopback: not newer than the list held");
  }
  traffic_.emplace_back(signed_list.begin(), signed_list.end());
  lists_.insert_or_assign(std::string(name), Bytes(signed_list.begin(), signed_list.end()));
  return ok_status();
}

Result<std::optional<Bytes>> LoopbackNetwork::fetch_device_list(std::string_view name) {
  if (down) return Error(Errc::kTransportFailure, "loopback: down");
  ++list_fetches;
  if (substitute_list) {
    if (auto lie = substitute_list(name)) return *lie;
  }
  auto it = lists_.find(name);
  if (it == lists_.end()) return std::optional<Bytes>();
  return std::optional<Bytes>(it->second);
}

}  // namespace hush::test
