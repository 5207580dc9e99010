// hush tests: an in-process "server": a Transport that queues envelopes per recipient, and a
// KeyDirectory that keeps published keys and hands out one one-time prekey per fetch. Tests can
// drop, duplicate and reorder envelopes, and make the directory lie (a man in the middle).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>

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
  Result<std::uint32_t> available_pre_keys(const Address& self) override;
  Result<PreKeyBundle> fetch(const Address& remote) override;

  /// Envelopes waiting for `recipient`, oldest first.
  std::deque<Bytes>& queue(const Address& recipient) { return queues_[recipient]; }
  /// All envelope bytes ever sent through the network, in order (what a server would see).
  const std::vector<Bytes>& traffic() const { return traffic_; }
  /// Makes fetch() return what `substitute` says for a peer (a lying directory); null to stop.
  std::function<std::optional<PreKeyBundle>(const Address&)> substitute;
  /// When set, send() fails (the server cannot be reached).
  bool down = false;
  /// When set, only publish() fails.
  bool publish_down = false;
  int publishes = 0;
  int sends = 0;
  /// The keys published for `self` (nullptr if none).
  const PublishedKeys* published(const Address& self) const {
    auto it = directory_.find(self);
    return it == directory_.end() ? nullptr : &it->second.keys;
  }

 private:
  struct Entry {
    PublishedKeys keys;
    std::deque<std::pair<PreKeyId, PublicKey>> pre_keys;
  };
  std::map<Address, Entry> directory_;
  std::map<Address, std::deque<Bytes>> queues_;
  std::vector<Bytes> traffic_;
};

}  // namespace hush::test
