// hush tests: an in-process "server": a Transport that queues envelopes per recipient, and a
// KeyDirectory that keeps published keys and hands out one one-time prekey and one one-time Kyber
// prekey (else the last-resort one) per fetch. Tests can
// drop, duplicate and reorder envelopes, and make the directory lie (a man in the middle).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <hush/hush.h>

namespace hush::test {

class LoopbackNetwork final : public KeyDirectory {
 public:
  /// The transport of one sender (all share this network's queues).
  class Port final : public Transport {
   public:
    explicit Port(LoopbackNetwork& net) : net_(net) {}
    Status send(const Address& recipient, ByteView envelope) override;

   private:
    LoopbackNetwork& net_;
  };

  // KeyDirectory
  Status publish(const Address& self, const PublishedKeys& keys) override;
  Result<AvailablePreKeys> available_pre_keys(const Address& self) override;
  Result<PreKeyBundle> fetch(const Address& remote) override;
  /// Holds a person's signed list if it parses and its version is higher than the one held, or it
  /// is signed by another identity (a re-registration: this server lets anyone take a name over,
  /// as the tests' reinstalls need); kStaleDeviceList otherwise.
  Status publish_device_list(std::string_view name, ByteView signed_list) override;
  Result<std::optional<Bytes>> fetch_device_list(std::string_view name) override;

  /// Envelopes waiting for `recipient`, oldest first.
  std::deque<Bytes>& queue(const Address& recipient) { return queues_[recipient]; }
  /// All envelope bytes ever sent through the network, in order (what a server would see).
  const std::vector<Bytes>& traffic() const { return traffic_; }
  /// Adds bytes that went through the server another way (a link message) to the traffic log.
  void record(ByteView bytes) { traffic_.emplace_back(bytes.begin(), bytes.end()); }
  /// Makes fetch() return what `substitute` says for a peer (a lying directory); null to stop.
  std::function<std::optional<PreKeyBundle>(const Address&)> substitute;
  /// Makes fetch_device_list() return what `substitute_list` says for a person (a lying
  /// directory) when it returns a value; null to stop.
  std::function<std::optional<std::optional<Bytes>>(std::string_view)> substitute_list;
  /// The signed device list held for `name` (nullptr if none).
  const Bytes* device_list(std::string_view name) const {
    auto it = lists_.find(name);
    return it == lists_.end() ? nullptr : &it->second;
  }
  /// Forgets the keys published for `device` (a server that lost them).
  void forget(const Address& device) { directory_.erase(device); }
  /// When set, send() fails (the server cannot be reached).
  bool down = false;
  /// When set, only publish() fails.
  bool publish_down = false;
  int publishes = 0;
  int sends = 0;
  int list_fetches = 0;
  /// The keys published for `self` (nullptr if none).
  const PublishedKeys* published(const Address& self) const {
    auto it = directory_.find(self);
    return it == directory_.end() ? nullptr : &it->second.keys;
  }
  /// The ids of the one-time Kyber prekeys held for `self`, in the order they are handed out.
  std::vector<KyberPreKeyId> kyber_pre_key_ids(const Address& self) const {
    std::vector<KyberPreKeyId> out;
    if (auto it = directory_.find(self); it != directory_.end())
      for (const auto& k : it->second.kyber_pre_keys)
        out.push_back(k.id);
    return out;
  }

 private:
  struct Entry {
    PublishedKeys keys;
    std::deque<std::pair<PreKeyId, PublicKey>> pre_keys;
    std::deque<SignedKyberPreKey> kyber_pre_keys;
  };
  std::map<Address, Entry> directory_;
  std::map<Address, std::deque<Bytes>> queues_;
  std::map<std::string, Bytes, std::less<>> lists_;
  std::vector<Bytes> traffic_;
};

}  // namespace hush::test
