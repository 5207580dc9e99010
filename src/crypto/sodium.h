// hush internal: one-time libsodium initialisation (sodium_init is idempotent and thread-safe).
#pragma once

namespace hush::internal::crypto {
/// Initialises libsodium once; aborts if it cannot initialise (nothing is safe without it).
void ensure_sodium();
}  // namespace hush::internal::crypto
