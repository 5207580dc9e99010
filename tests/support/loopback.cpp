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
  // Idempotent per prekey id (KeyDirectory::publish): a repeated id replaces, never adds.
  for (const auto& k : parsed->pre_keys) {
    auto same = std::find_if(e.pre_keys.begin(), e.pre_keys.end(),
                             [&](const auto& held) { return held.first == k.first; });
    if (same != e.pre_keys.end())
      *same = k;
    else
      e.pre_keys.push_back(k);
  }
  parsed->pre_keys.clear();
  e.keys = *parsed;
  ++publishes;
  return ok_status();
}

Result<std::uint32_t> LoopbackNetwork::available_pre_keys(const Address& self) {
  if (down) return Error(Errc::kTransportFailure, "loopback: down");
  auto it = directory_.find(self);
  return it == directory_.end() ? 0u : static_cast<std::uint32_t>(it->second.pre_keys.size());
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
  return PreKeyBundle::parse(it->second.keys.bundle(otk).serialize());
}

}  // namespace hush::test
