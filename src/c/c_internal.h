// hush C API internals: the handle structs behind the opaque C types, and the guard every entry
// point runs its body in (no exception crosses the C boundary; every failure fills hush_error).
//
// This layer is a thin shim over the public C++ API (include/hush) and nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include <hush/c/hush.h>
#include <hush/hush.h>

struct hush_context {
  std::shared_ptr<hush::Logger> logger;
  hush::Context ctx;
};

struct hush_store {
  std::unique_ptr<hush::ProtocolStore> store;
};

struct hush_bytes {
  hush::SecretBytes bytes;
};

struct hush_fingerprint {
  hush::Fingerprint fingerprint;
};

struct hush_published_keys {
  hush::PublishedKeys keys;
};

struct hush_received {
  hush::ReceivedMessage message;
};

struct hush_group {
  hush::SenderKeyGroup group;
};

struct hush_sframe_sender {
  hush::SframeSender sender;
};

struct hush_sframe_receiver {
  hush::SframeReceiver receiver;
};

namespace hush::c_api {

/// One C call: its name (for messages) and where its error goes (may be null).
class Call {
 public:
  Call(const char* function, hush_error* error) noexcept : function_(function), error_(error) {}

  /// Records success and returns HUSH_OK.
  hush_status ok() const noexcept;
  /// Records `status` with a detail (a static string: a parameter name, a location).
  hush_status fail(hush_status status, const char* detail) const noexcept;
  /// Records a library error.
  hush_status fail(const Error& error) const noexcept;
  /// HUSH_ERR_NULL_ARGUMENT naming the parameter.
  hush_status null_argument(const char* parameter) const noexcept {
    return fail(HUSH_ERR_NULL_ARGUMENT, parameter);
  }

  /// Runs `body` (which returns a hush_status after calling ok() or fail()), turning any escaping
  /// exception into HUSH_ERR_OUT_OF_MEMORY or HUSH_ERR_INTERNAL.
  template <class Body>
  hush_status run(Body&& body) const noexcept {
    try {
      return body();
    } catch (const std::bad_alloc&) {
      return fail(HUSH_ERR_OUT_OF_MEMORY, "an allocation failed");
    } catch (...) {
      return fail(HUSH_ERR_INTERNAL, "unexpected exception");
    }
  }

 private:
  const char* function_;
  hush_error* error_;
};

/// The C status of a library error code (the numbers are the same).
hush_status to_status(Errc code) noexcept;

/// A view of `len` bytes at `data` (an empty view when `len` is 0, whatever `data` is).
inline ByteView view(const std::uint8_t* data, std::size_t len) noexcept {
  return len == 0 ? ByteView() : ByteView(data, len);
}

/// Whether a (pointer, length) pair is usable: a pointer is needed unless the length is 0.
inline bool present(const void* data, std::size_t len) noexcept {
  return data != nullptr || len == 0;
}

/// The C++ address of a C address; nullopt if its name pointer is missing.
std::optional<Address> to_address(const hush_address* address);

/// Copies `data` into a new hush_bytes.
hush_bytes* new_bytes(ByteView data);
/// Moves `data` into a new hush_bytes.
hush_bytes* new_bytes(SecretBytes data);

/// Copies `data` to a caller buffer with the size-query convention of common.h.
hush_status write_out(const Call& call, ByteView data, std::uint8_t* out, std::size_t out_cap,
                      std::size_t* out_len);

}  // namespace hush::c_api
