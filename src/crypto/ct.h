// hush internal: hooks for the constant-time check (tests/ct/), in the way of BoringSSL's
// CONSTTIME_DECLASSIFY / CONSTTIME_SECRET under BORINGSSL_CONSTANT_TIME_VALIDATION.
//
// The check runs code under valgrind memcheck with the secret bytes marked undefined, so that
// memcheck reports every branch, memory index or system call that depends on a secret. Some values
// computed from secrets are public by design, and the code branches on them: a MAC comparison's
// verdict, the "all-zero DH output" refusal. `declassify` marks such a verdict as public right
// where it is produced, so that only unintended dependencies are reported. Call it on verdicts
// only, never on keys or on anything a caller could branch on to learn a secret.
//
// Both hooks are no-ops unless HUSH_CT_VALIDATION is defined, which only the separate hush_ct
// library of tests/ct/CMakeLists.txt does; the `hush` library never includes <valgrind/memcheck.h>.
// Not responsible for: deciding what is secret (the check program marks its inputs).
// Thread-safety: re-entrant.
#pragma once

#include <cstddef>

#if defined(HUSH_CT_VALIDATION)
#include <valgrind/memcheck.h>
#endif

namespace hush::internal::crypto {

/// Marks `size` bytes at `data` as public (defined, for memcheck). A no-op in normal builds.
inline void declassify([[maybe_unused]] const void* data,
                       [[maybe_unused]] std::size_t size) noexcept {
#if defined(HUSH_CT_VALIDATION)
  (void)VALGRIND_MAKE_MEM_DEFINED(data, size);
#endif
}

/// Marks `size` bytes at `data` as secret (undefined, for memcheck). A no-op in normal builds.
inline void classify([[maybe_unused]] const void* data,
                     [[maybe_unused]] std::size_t size) noexcept {
#if defined(HUSH_CT_VALIDATION)
  (void)VALGRIND_MAKE_MEM_UNDEFINED(data, size);
#endif
}

/// `declassify` for one value (a verdict such as a bool or a return code); returns it.
template <typename T>
inline T declassified(T value) noexcept {
  declassify(&value, sizeof value);
  return value;
}

}  // namespace hush::internal::crypto
