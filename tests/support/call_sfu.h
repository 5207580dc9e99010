// hush tests: an in-process SFU for calls (call.h): it forwards every encrypted frame a
// participant sends to every other subscriber, dropping 5 % of them and reordering the rest, and
// cannot read any. Deterministic (seeded).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <utility>

#include <hush/call.h>

namespace hush::test {

// An in-process SFU: every frame a participant sends goes to every other subscriber, except that
// it drops 5 % of them and reorders the rest (a frame is held back behind up to three later ones).
// It forwards blindly (it cannot read anything), also to one the host removed.
class Sfu {
 public:
  explicit Sfu(std::uint32_t seed) : rng_(seed) {}

  class Port final : public MediaTransport {
   public:
    Port(Sfu& sfu, Address from) : sfu_(sfu), from_(std::move(from)) {}
    Status send_frame(const CallId&, ByteView frame) override {
      sfu_.forward(from_, frame);
      return ok_status();
    }

   private:
    Sfu& sfu_;
    Address from_;
  };

  void subscribe(const Address& a) { queues_[a]; }

  void forward(const Address& from, ByteView frame) {
    for (auto& [to, q] : queues_) {
      if (to == from) continue;
      ++offered_;
      if (std::uniform_int_distribution<int>(0, 99)(rng_) < 5) {
        ++dropped_;
        continue;
      }
      Bytes f(frame.begin(), frame.end());
      // Reorder: insert up to three places before the end of what is queued.
      const auto back = std::uniform_int_distribution<std::size_t>(0, 3)(rng_);
      const std::size_t at = q.size() > back ? q.size() - back : 0;
      q.insert(q.begin() + static_cast<std::ptrdiff_t>(at), std::move(f));
    }
  }

  std::deque<Bytes> take(const Address& a) { return std::exchange(queues_[a], {}); }
  std::size_t offered() const { return offered_; }
  std::size_t dropped() const { return dropped_; }

 private:
  std::mt19937 rng_;
  std::map<Address, std::deque<Bytes>> queues_;
  std::size_t offered_ = 0;
  std::size_t dropped_ = 0;
};

}  // namespace hush::test
