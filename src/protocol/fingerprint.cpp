// hush: safety numbers as libsignal-protocol-c computes them (src/fingerprint.c; wire spec §9).
#include <hush/fingerprint.h>

#include <array>
#include <cstdio>

#include "crypto/hash.h"
#include "proto_util.h"
#include "wire.pb.h"

namespace hush {

namespace {

constexpr std::uint16_t kFingerprintVersion = 0;
constexpr std::size_t kDisplayBytes = 30;  // 6 chunks of 5 bytes, 5 digits each
constexpr std::size_t kScannableContentBytes = 32;

// h = SHA-512^iterations over (be16(version) || key || id), each round appending the key again.
std::array<std::uint8_t, 64> party_hash(std::uint32_t iterations, std::string_view id,
                                        const IdentityKey& key) {
  const auto k = key.serialize();
  internal::crypto::Sha512 sha;
  std::array<std::uint8_t, 64> h{};
  const std::array<std::uint8_t, 2> version = {static_cast<std::uint8_t>(kFingerprintVersion >> 8),
                                               static_cast<std::uint8_t>(kFingerprintVersion)};
  Bytes first(version.begin(), version.end());
  first.insert(first.end(), k.begin(), k.end());
  first.insert(first.end(), id.begin(), id.end());
  sha.update(first);
  sha.update(k);
  sha.final(h);
  for (std::uint32_t i = 1; i < iterations; ++i) {
    sha.update(h);
    sha.update(k);
    sha.final(h);
  }
  return h;
}

std::string display_half(const std::array<std::uint8_t, 64>& h) {
  std::string out;
  for (std::size_t chunk = 0; chunk < kDisplayBytes; chunk += 5) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 5; ++i)
      v = v << 8 | h[chunk + i];
    char digits[8];
    std::snprintf(digits, sizeof digits, "%05u", static_cast<unsigned>(v % 100000));
    out += digits;
  }
  return out;
}

void fill(wire::LogicalFingerprint* f, std::uint32_t version, const std::array<std::uint8_t, 64>& h,
          const IdentityKey& key, std::string_view id) {
  if (version == 0) {
    f->set_content(internal::to_field(key.serialize()));
    f->set_identifier(std::string(id));
  } else {
    f->set_content(internal::to_field(ByteView(h).first(kScannableContentBytes)));
  }
}

}  // namespace

Result<Fingerprint> make_fingerprint(std::uint32_t iterations, std::string_view local_id,
                                     const IdentityKey& local_key, std::string_view remote_id,
                                     const IdentityKey& remote_key,
                                     std::uint32_t scannable_version) {
  if (iterations == 0) return Error(Errc::kInvalidArgument, "make_fingerprint: 0 iterations");
  if (scannable_version > 1)
    return Error(Errc::kInvalidArgument, "make_fingerprint: scannable version");
  const auto local = party_hash(iterations, local_id, local_key);
  const auto remote = party_hash(iterations, remote_id, remote_key);
  const std::string l = display_half(local), r = display_half(remote);
  Fingerprint f;
  f.displayable = l <= r ? l + r : r + l;
  wire::CombinedFingerprints combined;
  combined.set_version(scannable_version);
  fill(combined.mutable_local_fingerprint(), scannable_version, local, local_key, local_id);
  fill(combined.mutable_remote_fingerprint(), scannable_version, remote, remote_key, remote_id);
  f.scannable.resize(combined.ByteSizeLong());
  combined.SerializeWithCachedSizesToArray(f.scannable.data());
  return f;
}

Result<bool> compare_scannable_fingerprints(ByteView ours, ByteView scanned) {
  wire::CombinedFingerprints a, b;
  if (!internal::parse_from(a, ours) || !internal::parse_from(b, scanned))
    return Error(Errc::kInvalidProtobuf, "compare_scannable_fingerprints: protobuf");
  if (!a.has_version() || !b.has_version() || a.version() != b.version())
    return Error(Errc::kFingerprintVersionMismatch, "compare_scannable_fingerprints: version");
  if (a.version() == 0 &&
      (a.local_fingerprint().identifier() != b.remote_fingerprint().identifier() ||
       a.remote_fingerprint().identifier() != b.local_fingerprint().identifier()))
    return Error(Errc::kFingerprintIdentifierMismatch,
                 "compare_scannable_fingerprints: identifiers");
  const bool local_matches = constant_time_equals(as_bytes(a.local_fingerprint().content()),
                                                  as_bytes(b.remote_fingerprint().content()));
  const bool remote_matches = constant_time_equals(as_bytes(a.remote_fingerprint().content()),
                                                   as_bytes(b.local_fingerprint().content()));
  return local_matches && remote_matches && !a.local_fingerprint().content().empty();
}

std::string group_safety_number(std::string_view displayable) {
  std::string out;
  out.reserve(displayable.size() + displayable.size() / 5);
  for (std::size_t i = 0; i < displayable.size(); i += 5) {
    if (i > 0) out.push_back(' ');
    out.append(displayable.substr(i, 5));
  }
  return out;
}

}  // namespace hush
