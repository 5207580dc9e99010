// hush C API: safety numbers.
#include <cstring>
#include <string>

#include "c/c_internal.h"

using hush::c_api::Call;
using hush::c_api::present;
using hush::c_api::view;

extern "C" {

hush_status hush_fingerprint_compute(const char* local_id, size_t local_id_len,
                                     const uint8_t* local_key, size_t local_key_len,
                                     const char* remote_id, size_t remote_id_len,
                                     const uint8_t* remote_key, size_t remote_key_len,
                                     hush_fingerprint** out, hush_error* error) {
  const Call call("hush_fingerprint_compute", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (!present(local_id, local_id_len)) return call.null_argument("local_id");
    if (!present(remote_id, remote_id_len)) return call.null_argument("remote_id");
    if (!present(local_key, local_key_len)) return call.null_argument("local_key");
    if (!present(remote_key, remote_key_len)) return call.null_argument("remote_key");
    auto ours = hush::PublicKey::parse(view(local_key, local_key_len));
    if (!ours) return call.fail(ours.error());
    auto theirs = hush::PublicKey::parse(view(remote_key, remote_key_len));
    if (!theirs) return call.fail(theirs.error());
    auto fingerprint = hush::make_fingerprint(hush::kFingerprintIterations,
                                              std::string_view(local_id, local_id_len), *ours,
                                              std::string_view(remote_id, remote_id_len), *theirs);
    if (!fingerprint) return call.fail(fingerprint.error());
    *out = new hush_fingerprint{std::move(*fingerprint)};
    return call.ok();
  });
}

hush_status hush_fingerprint_display(const hush_fingerprint* fingerprint, int format, char* out,
                                     size_t out_cap, size_t* out_len, hush_error* error) {
  const Call call("hush_fingerprint_display", error);
  return call.run([&] {
    if (fingerprint == nullptr) return call.null_argument("fingerprint");
    if (out_len == nullptr) return call.null_argument("out_len");
    const std::string& digits = fingerprint->fingerprint.displayable;
    std::string text;
    switch (format) {
      case HUSH_FINGERPRINT_DIGITS:
        text = digits;
        break;
      case HUSH_FINGERPRINT_GROUPED:
        for (std::size_t i = 0; i < digits.size(); i += 5) {
          if (i != 0) text += ' ';
          text += digits.substr(i, 5);
        }
        break;
      default:
        return call.fail(HUSH_ERR_INVALID_ARGUMENT, "format is not a hush_fingerprint_format");
    }
    *out_len = text.size();
    if (out == nullptr || out_cap <= text.size())
      return call.fail(HUSH_ERR_BUFFER_TOO_SMALL, "needs *out_len + 1 bytes");
    std::memcpy(out, text.c_str(), text.size() + 1);
    return call.ok();
  });
}

hush_status hush_fingerprint_scannable(const hush_fingerprint* fingerprint, uint8_t* out,
                                       size_t out_cap, size_t* out_len, hush_error* error) {
  const Call call("hush_fingerprint_scannable", error);
  return call.run([&] {
    if (fingerprint == nullptr) return call.null_argument("fingerprint");
    return hush::c_api::write_out(call, fingerprint->fingerprint.scannable, out, out_cap, out_len);
  });
}

hush_status hush_fingerprint_compare_scanned(const hush_fingerprint* fingerprint,
                                             const uint8_t* scanned, size_t scanned_len,
                                             int* matches, hush_error* error) {
  const Call call("hush_fingerprint_compare_scanned", error);
  return call.run([&] {
    if (fingerprint == nullptr) return call.null_argument("fingerprint");
    if (matches == nullptr) return call.null_argument("matches");
    if (!present(scanned, scanned_len)) return call.null_argument("scanned");
    *matches = 0;
    auto same = hush::compare_scannable_fingerprints(fingerprint->fingerprint.scannable,
                                                     view(scanned, scanned_len));
    if (!same) return call.fail(same.error());
    *matches = *same ? 1 : 0;
    return call.ok();
  });
}

void hush_fingerprint_free(hush_fingerprint* fingerprint) {
  delete fingerprint;
}

}  // extern "C"
