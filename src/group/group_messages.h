// hush internal: building group messages for sending (both wire formats; wire spec §2.4-2.5, v4
// wire spec §5).
#pragma once

#include <array>
#include <cstdint>

#include <hush/group.h>

namespace hush::internal {

struct GroupMessageBuilder {
  /// A signed SenderKeyMessage: 0x33 || protobuf (every field) || signature by `signing_key`
  /// (whose Edwards form A is `signing_edwards`) over both. Fails only if the randomness for the
  /// signature fails.
  static Result<SenderKeyMessage> sender_key_message(
      RandomSource& random, const SenderKeyGroup& group, std::uint32_t chain_id,
      std::uint32_t iteration, Bytes ciphertext, const PrivateKey& signing_key,
      const std::array<std::uint8_t, 32>& signing_edwards);
  /// A SenderKeyDistributionMessage: 0x33 || protobuf (every field).
  static SenderKeyDistributionMessage distribution_message(const SenderKeyGroup& group,
                                                           std::uint32_t chain_id,
                                                           std::uint32_t iteration,
                                                           const SecretArray<32>& chain_key,
                                                           const PublicKey& signing_key);
  /// The chain key a distribution message carries.
  static const SecretArray<32>& chain_key(const SenderKeyDistributionMessage& m) {
    return m.chain_key_;
  }
};

}  // namespace hush::internal
