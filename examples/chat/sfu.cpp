// hush chat example: the relay's call switch (see sfu.h).
#include "sfu.h"

#include <algorithm>
#include <cstring>

#include <hush/random.h>
#include <hush/secret.h>

namespace hush_chat {

std::optional<std::array<std::uint8_t, kCallTokenBytes>> CallSwitch::grant(
    const std::string& account, const CallKey& call) {
  leave(account);
  auto it = calls_.find(call);
  if (it == calls_.end()) {
    if (calls_.size() >= kMaxSwitchCalls) return std::nullopt;
  } else if (it->second.size() >= kMaxCallMembers) {
    return std::nullopt;
  }
  Member m;
  m.account = account;
  if (!hush::system_random().fill(m.token)) return std::nullopt;
  const auto token = m.token;
  calls_[call].push_back(std::move(m));
  account_call_[account] = call;
  return token;
}

void CallSwitch::leave(const std::string& account) {
  auto a = account_call_.find(account);
  if (a == account_call_.end()) return;
  auto c = calls_.find(a->second);
  if (c != calls_.end()) {
    auto& members = c->second;
    for (auto m = members.begin(); m != members.end(); ++m) {
      if (m->account != account) continue;
      if (m->endpoint) bound_.erase(*m->endpoint);
      members.erase(m);
      break;
    }
    if (members.empty()) calls_.erase(c);
  }
  account_call_.erase(a);
}

SwitchVerdict CallSwitch::on_datagram(const Endpoint& from, const std::uint8_t* data,
                                      std::size_t size, std::vector<Endpoint>& out) {
  out.clear();
  if (size < kMediaHeaderBytes || size > kMaxDatagramBytes) return SwitchVerdict::kDropped;
  CallKey call;
  std::memcpy(call.data(), data + 1, call.size());
  if (data[0] == 'J') {
    if (size != kJoinDatagramBytes) return SwitchVerdict::kDropped;
    auto c = calls_.find(call);
    if (c == calls_.end()) return SwitchVerdict::kDropped;
    const hush::ByteView token(data + kMediaHeaderBytes, kCallTokenBytes);
    for (Member& m : c->second) {
      if (!hush::constant_time_equals(token, hush::ByteView(m.token))) continue;
      // One endpoint serves one member: an endpoint bound elsewhere is taken over.
      if (auto b = bound_.find(from); b != bound_.end()) {
        if (auto other = calls_.find(b->second); other != calls_.end())
          for (Member& o : other->second)
            if (o.endpoint == from) o.endpoint.reset();
        bound_.erase(b);
      }
      if (m.endpoint) bound_.erase(*m.endpoint);
      m.endpoint = from;
      bound_[from] = call;
      return SwitchVerdict::kJoined;
    }
    return SwitchVerdict::kDropped;
  }
  if (data[0] != 'M') return SwitchVerdict::kDropped;
  auto b = bound_.find(from);
  if (b == bound_.end() || b->second != call) return SwitchVerdict::kDropped;
  auto c = calls_.find(call);
  if (c == calls_.end()) return SwitchVerdict::kDropped;
  for (const Member& m : c->second)
    if (m.endpoint && !(*m.endpoint == from)) out.push_back(*m.endpoint);
  return SwitchVerdict::kForwarded;
}

}  // namespace hush_chat
