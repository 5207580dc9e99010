// hush interop tests: an LscPeer (lsc_peer.h) on libsignal-protocol-c's public API, with a crypto
// provider written as libsignal-protocol-c's own test provider writes it (crypto/baseline.h: a
// fresh OpenSSL HMAC or cipher context per operation), and in-memory stores.
#include "interop/lsc_peer.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <span>
#include <stdexcept>
#include <utility>

#include <hush/random.h>
#include <hush/result.h>

#include "crypto/baseline.h"
#include "crypto/cipher.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"

// libsignal's headers carry their own extern "C" blocks; they are C and not held to our warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#include <signal/curve.h>
#include <signal/group_cipher.h>
#include <signal/group_session_builder.h>
#include <signal/key_helper.h>
#include <signal/protocol.h>
#include <signal/ratchet.h>
#include <signal/session_builder.h>
#include <signal/session_cipher.h>
#include <signal/session_pre_key.h>
#include <signal/signal_protocol.h>
#pragma GCC diagnostic pop

namespace hush::interop {

static_assert(kSgSuccess == SG_SUCCESS);
static_assert(kSgErrInval == SG_ERR_INVAL);
static_assert(kSgErrUnknown == SG_ERR_UNKNOWN);
static_assert(kSgErrDuplicateMessage == SG_ERR_DUPLICATE_MESSAGE);
static_assert(kSgErrInvalidKey == SG_ERR_INVALID_KEY);
static_assert(kSgErrInvalidKeyId == SG_ERR_INVALID_KEY_ID);
static_assert(kSgErrInvalidMessage == SG_ERR_INVALID_MESSAGE);
static_assert(kSgErrInvalidVersion == SG_ERR_INVALID_VERSION);
static_assert(kSgErrLegacyMessage == SG_ERR_LEGACY_MESSAGE);
static_assert(kSgErrNoSession == SG_ERR_NO_SESSION);
static_assert(kSgErrUntrustedIdentity == SG_ERR_UNTRUSTED_IDENTITY);
static_assert(kSgErrInvalidProtoBuf == SG_ERR_INVALID_PROTO_BUF);
static_assert(kLscWhisperType == CIPHERTEXT_SIGNAL_TYPE);
static_assert(kLscPreKeyType == CIPHERTEXT_PREKEY_TYPE);

namespace {

namespace crypto = hush::internal::crypto;

// ---- small RAII helpers for libsignal's refcounted objects and buffers ----

// SIGNAL_UNREF without the macro's C-style cast. Every refcounted libsignal type starts with a
// signal_type_base.
template <class T>
void unref(T*& p) noexcept {
  if (p != nullptr) signal_type_unref(reinterpret_cast<signal_type_base*>(p));
  p = nullptr;
}

// Owns one reference to a refcounted libsignal object.
template <class T>
class Ref {
 public:
  Ref() = default;
  ~Ref() { unref(p_); }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  T** out() noexcept {
    unref(p_);
    return &p_;
  }
  T* get() const noexcept { return p_; }

 private:
  T* p_ = nullptr;
};

// Owns a signal_buffer.
class Buf {
 public:
  Buf() = default;
  explicit Buf(bool secret) : secret_(secret) {}
  ~Buf() { reset(); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  signal_buffer** out() noexcept {
    reset();
    return &p_;
  }
  Bytes bytes() const {
    if (p_ == nullptr) return {};
    const std::uint8_t* d = signal_buffer_const_data(p_);
    return Bytes(d, d + signal_buffer_len(p_));
  }

 private:
  void reset() noexcept {
    if (p_ == nullptr) return;
    if (secret_) {
      signal_buffer_bzero_free(p_);
    } else {
      signal_buffer_free(p_);
    }
    p_ = nullptr;
  }
  signal_buffer* p_ = nullptr;
  bool secret_ = false;
};

Bytes buffer_bytes(const signal_buffer* b) {
  if (b == nullptr) return {};
  const std::uint8_t* d = signal_buffer_const_data(b);
  return Bytes(d, d + signal_buffer_len(b));
}

void check(int rc, const char* what) {
  if (rc < 0)
    throw std::runtime_error(std::string("libsignal harness: ") + what + " failed (" +
                             std::to_string(rc) + ")");
}

Bytes serialize_public(const ec_public_key* key) {
  Buf b;
  check(ec_public_key_serialize(b.out(), key), "ec_public_key_serialize");
  return b.bytes();
}

// A deterministic generator: HMAC-SHA256(seed, counter) blocks. Repeatable, not for production.
class SeededSource final : public RandomSource {
 public:
  explicit SeededSource(std::uint64_t seed) {
    for (std::size_t i = 0; i < 8; ++i)
      key_[i] = static_cast<std::uint8_t>(seed >> (8 * i));
    key_[8] = 'l';
    key_[9] = 's';
    key_[10] = 'c';
  }
  Status fill(std::span<std::uint8_t> out) override {
    while (!out.empty()) {
      std::array<std::uint8_t, 8> block{};
      for (std::size_t i = 0; i < 8; ++i)
        block[i] = static_cast<std::uint8_t>(counter_ >> (8 * i));
      ++counter_;
      std::array<std::uint8_t, crypto::kHmacSha256Size> chunk{};
      hmac_.mac(key_, block, chunk);
      const std::size_t n = std::min(out.size(), chunk.size());
      std::copy_n(chunk.begin(), n, out.begin());
      out = out.subspan(n);
    }
    return ok_status();
  }

 private:
  crypto::HmacSha256 hmac_;
  std::array<std::uint8_t, 32> key_{};
  std::uint64_t counter_ = 0;
};

// Wraps a store callback so that no C++ exception (std::bad_alloc from a map or vector) unwinds
// through libsignal's C frames.
template <auto F>
struct Guard;
template <class... A, int (*F)(A...)>
struct Guard<F> {
  static int call(A... a) noexcept {
    try {
      return F(a...);
    } catch (const std::bad_alloc&) {
      return SG_ERR_NOMEM;
    } catch (...) {
      return SG_ERR_UNKNOWN;
    }
  }
};

using AddressKey = std::pair<std::string, std::int32_t>;

AddressKey key_of(const signal_protocol_address* a) {
  return {std::string(a->name, a->name_len), a->device_id};
}

// A signal_protocol_address that borrows the name of a hush Address.
struct LscAddress {
  explicit LscAddress(const Address& a)
      : name(a.name),
        address{name.c_str(), name.size(), static_cast<std::int32_t>(to_uint(a.device_id))} {}
  LscAddress(const LscAddress&) = delete;
  LscAddress& operator=(const LscAddress&) = delete;
  std::string name;
  signal_protocol_address address;
};

}  // namespace

// ---- the peer's state: libsignal contexts and the in-memory stores ----

struct LscPeer::Impl {
  std::string name;
  std::uint32_t device_id = 0;
  std::unique_ptr<SeededSource> seeded;
  RandomSource* random = nullptr;
  std::recursive_mutex mutex;
  std::string log;

  signal_context* ctx = nullptr;
  signal_protocol_store_context* store = nullptr;

  // Stores.
  std::map<AddressKey, Bytes> sessions;
  std::map<std::uint32_t, Bytes> pre_keys;
  std::map<std::uint32_t, Bytes> signed_pre_keys;
  std::map<AddressKey, Bytes> identities;
  std::map<std::pair<std::string, AddressKey>, Bytes> sender_keys;  // (group id, sender)
  Bytes identity_public;                                            // 33 bytes
  Bytes identity_private;                                           // 32 bytes
  std::uint32_t registration_id = 0;
  std::uint32_t signed_pre_key_id = 1;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (store != nullptr) signal_protocol_store_context_destroy(store);
    if (ctx != nullptr) signal_context_destroy(ctx);
    std::fill(identity_private.begin(), identity_private.end(), std::uint8_t{0});
  }

  static Impl& of(void* user_data) { return *static_cast<Impl*>(user_data); }

  // -- locking and logging --
  static void lock(void* ud) { of(ud).mutex.lock(); }
  static void unlock(void* ud) { of(ud).mutex.unlock(); }
  static void log_line(int level, const char* message, std::size_t len, void* ud) noexcept {
    try {
      Impl& self = of(ud);
      std::string line = "[" + std::to_string(level) + "] " + std::string(message, len) + "\n";
      if (std::getenv("HUSH_INTEROP_LOG") != nullptr) std::fputs(line.c_str(), stderr);
      self.log += line;
    } catch (...) {
      // Logging is best effort.
    }
  }

  // -- crypto provider --
  static int random_func(std::uint8_t* data, std::size_t len, void* ud) {
    try {
      return of(ud).random->fill(std::span<std::uint8_t>(data, len)) ? SG_SUCCESS : SG_ERR_UNKNOWN;
    } catch (...) {
      return SG_ERR_UNKNOWN;
    }
  }
  static int hmac_init(void** hmac_context, const std::uint8_t* key, std::size_t key_len, void*) {
    try {
      *hmac_context = new crypto::baseline::HmacSha256(ByteView(key, key_len));
      return SG_SUCCESS;
    } catch (const std::bad_alloc&) {
      return SG_ERR_NOMEM;
    } catch (...) {
      return SG_ERR_UNKNOWN;
    }
  }
  static int hmac_update(void* hmac_context, const std::uint8_t* data, std::size_t len, void*) {
    try {
      static_cast<crypto::baseline::HmacSha256*>(hmac_context)->update(ByteView(data, len));
      return SG_SUCCESS;
    } catch (...) {
      return SG_ERR_UNKNOWN;
    }
  }
  static int hmac_final(void* hmac_context, signal_buffer** output, void*) {
    try {
      const auto mac = static_cast<crypto::baseline::HmacSha256*>(hmac_context)->final();
      signal_buffer* b = signal_buffer_create(mac.data(), mac.size());
      if (b == nullptr) return SG_ERR_NOMEM;
      *output = b;
      return SG_SUCCESS;
    } catch (...) {
      return SG_ERR_UNKNOWN;
    }
  }
  static void hmac_cleanup(void* hmac_context, void*) {
    delete static_cast<crypto::baseline::HmacSha256*>(hmac_context);
  }
  static int sha512_init(void** digest_context, void*) {
    try {
      *digest_context = new crypto::Sha512();
      return SG_SUCCESS;
    } catch (const std::bad_alloc&) {
      return SG_ERR_NOMEM;
    } catch (...) {
      return SG_ERR_UNKNOWN;
    }
  }
  static int sha512_update(void* digest_context, const std::uint8_t* data, std::size_t len, void*) {
    try {
      static_cast<crypto::Sha512*>(digest_context)->update(ByteView(data, len));
      return SG_SUCCESS;
    } catch (...) {
      return SG_ERR_UNKNOWN;
    }
  }
  static int sha512_final(void* digest_context, signal_buffer** output, void*) {
    try {
      signal_buffer* b = signal_buffer_alloc(64);
      if (b == nullptr) return SG_ERR_NOMEM;
      // Sha512::final resets the context, as the provider contract requires.
      static_cast<crypto::Sha512*>(digest_context)
          ->final(std::span<std::uint8_t, 64>(signal_buffer_data(b), 64));
      *output = b;
      return SG_SUCCESS;
    } catch (...) {
      return SG_ERR_UNKNOWN;
    }
  }
  static void sha512_cleanup(void* digest_context, void*) {
    delete static_cast<crypto::Sha512*>(digest_context);
  }
  // Only AES-256-CBC with PKCS#7 (all v3 uses); AES-CTR and other key sizes are refused.
  static int aes(bool encrypt, signal_buffer** output, int cipher, const std::uint8_t* key,
                 std::size_t key_len, const std::uint8_t* iv, std::size_t iv_len,
                 const std::uint8_t* in, std::size_t in_len) {
    if (cipher != SG_CIPHER_AES_CBC_PKCS5) return SG_ERR_UNKNOWN;
    if (key_len != crypto::Aes256Cbc::kKeySize || iv_len != crypto::Aes256Cbc::kIvSize)
      return SG_ERR_UNKNOWN;
    try {
      // A new cipher context per call, as the reference provider does.
      auto out = crypto::baseline::aes256_cbc(encrypt, ByteView(key, key_len), ByteView(iv, iv_len),
                                              ByteView(in, in_len));
      if (!out) return SG_ERR_UNKNOWN;  // bad padding or length, as the reference provider
      signal_buffer* b = signal_buffer_create(out->data(), out->size());
      if (b == nullptr) return SG_ERR_NOMEM;
      *output = b;
      return SG_SUCCESS;
    } catch (const std::bad_alloc&) {
      return SG_ERR_NOMEM;
    } catch (...) {
      return SG_ERR_UNKNOWN;
    }
  }
  static int encrypt_func(signal_buffer** output, int cipher, const std::uint8_t* key,
                          std::size_t key_len, const std::uint8_t* iv, std::size_t iv_len,
                          const std::uint8_t* plaintext, std::size_t plaintext_len, void*) {
    return aes(true, output, cipher, key, key_len, iv, iv_len, plaintext, plaintext_len);
  }
  static int decrypt_func(signal_buffer** output, int cipher, const std::uint8_t* key,
                          std::size_t key_len, const std::uint8_t* iv, std::size_t iv_len,
                          const std::uint8_t* ciphertext, std::size_t ciphertext_len, void*) {
    return aes(false, output, cipher, key, key_len, iv, iv_len, ciphertext, ciphertext_len);
  }

  // -- session store --
  static int load_session(signal_buffer** record, signal_buffer** /*user_record*/,
                          const signal_protocol_address* address, void* ud) {
    Impl& self = of(ud);
    auto it = self.sessions.find(key_of(address));
    if (it == self.sessions.end()) return 0;
    signal_buffer* b = signal_buffer_create(it->second.data(), it->second.size());
    if (b == nullptr) return SG_ERR_NOMEM;
    *record = b;
    return 1;
  }
  static int get_sub_device_sessions(signal_int_list** sessions, const char* name,
                                     std::size_t name_len, void* ud) {
    Impl& self = of(ud);
    signal_int_list* list = signal_int_list_alloc();
    if (list == nullptr) return SG_ERR_NOMEM;
    const std::string n(name, name_len);
    int count = 0;
    for (const auto& [k, v] : self.sessions) {
      if (k.first != n) continue;
      if (signal_int_list_push_back(list, k.second) < 0) {
        signal_int_list_free(list);
        return SG_ERR_NOMEM;
      }
      ++count;
    }
    *sessions = list;
    return count;
  }
  static int store_session(const signal_protocol_address* address, std::uint8_t* record,
                           std::size_t record_len, std::uint8_t* /*user_record*/,
                           std::size_t /*user_record_len*/, void* ud) {
    of(ud).sessions[key_of(address)] = Bytes(record, record + record_len);
    return SG_SUCCESS;
  }
  static int contains_session(const signal_protocol_address* address, void* ud) {
    return of(ud).sessions.count(key_of(address)) != 0 ? 1 : 0;
  }
  static int delete_session(const signal_protocol_address* address, void* ud) {
    return of(ud).sessions.erase(key_of(address)) != 0 ? 1 : 0;
  }
  static int delete_all_sessions(const char* name, std::size_t name_len, void* ud) {
    Impl& self = of(ud);
    const std::string n(name, name_len);
    int count = 0;
    for (auto it = self.sessions.begin(); it != self.sessions.end();) {
      if (it->first.first == n) {
        it = self.sessions.erase(it);
        ++count;
      } else {
        ++it;
      }
    }
    return count;
  }
  static void destroy_store(void*) {}  // the Impl owns the data

  // -- sender key store --
  static std::pair<std::string, AddressKey> sender_key_of(
      const signal_protocol_sender_key_name* n) {
    return {std::string(n->group_id, n->group_id_len), key_of(&n->sender)};
  }
  static int store_sender_key(const signal_protocol_sender_key_name* name, std::uint8_t* record,
                              std::size_t record_len, std::uint8_t* /*user_record*/,
                              std::size_t /*user_record_len*/, void* ud) {
    of(ud).sender_keys[sender_key_of(name)] = Bytes(record, record + record_len);
    return SG_SUCCESS;
  }
  static int load_sender_key(signal_buffer** record, signal_buffer** /*user_record*/,
                             const signal_protocol_sender_key_name* name, void* ud) {
    Impl& self = of(ud);
    auto it = self.sender_keys.find(sender_key_of(name));
    if (it == self.sender_keys.end()) return 0;
    signal_buffer* b = signal_buffer_create(it->second.data(), it->second.size());
    if (b == nullptr) return SG_ERR_NOMEM;
    *record = b;
    return 1;
  }

  // -- prekey stores --
  static int load_from(const std::map<std::uint32_t, Bytes>& m, signal_buffer** record,
                       std::uint32_t id) {
    auto it = m.find(id);
    if (it == m.end()) return SG_ERR_INVALID_KEY_ID;
    signal_buffer* b = signal_buffer_create(it->second.data(), it->second.size());
    if (b == nullptr) return SG_ERR_NOMEM;
    *record = b;
    return SG_SUCCESS;
  }
  static int load_pre_key(signal_buffer** record, std::uint32_t id, void* ud) {
    return load_from(of(ud).pre_keys, record, id);
  }
  static int store_pre_key(std::uint32_t id, std::uint8_t* record, std::size_t len, void* ud) {
    of(ud).pre_keys[id] = Bytes(record, record + len);
    return SG_SUCCESS;
  }
  static int contains_pre_key(std::uint32_t id, void* ud) {
    return of(ud).pre_keys.count(id) != 0 ? 1 : 0;
  }
  static int remove_pre_key(std::uint32_t id, void* ud) {
    of(ud).pre_keys.erase(id);
    return SG_SUCCESS;
  }
  static int load_signed_pre_key(signal_buffer** record, std::uint32_t id, void* ud) {
    return load_from(of(ud).signed_pre_keys, record, id);
  }
  static int store_signed_pre_key(std::uint32_t id, std::uint8_t* record, std::size_t len,
                                  void* ud) {
    of(ud).signed_pre_keys[id] = Bytes(record, record + len);
    return SG_SUCCESS;
  }
  static int contains_signed_pre_key(std::uint32_t id, void* ud) {
    return of(ud).signed_pre_keys.count(id) != 0 ? 1 : 0;
  }
  static int remove_signed_pre_key(std::uint32_t id, void* ud) {
    of(ud).signed_pre_keys.erase(id);
    return SG_SUCCESS;
  }

  // -- identity store (trust on first use) --
  static int get_identity_key_pair(signal_buffer** public_data, signal_buffer** private_data,
                                   void* ud) {
    Impl& self = of(ud);
    signal_buffer* pub =
        signal_buffer_create(self.identity_public.data(), self.identity_public.size());
    signal_buffer* priv =
        signal_buffer_create(self.identity_private.data(), self.identity_private.size());
    if (pub == nullptr || priv == nullptr) {
      if (pub != nullptr) signal_buffer_free(pub);
      if (priv != nullptr) signal_buffer_bzero_free(priv);
      return SG_ERR_NOMEM;
    }
    *public_data = pub;
    *private_data = priv;
    return SG_SUCCESS;
  }
  static int get_local_registration_id(void* ud, std::uint32_t* registration_id) {
    *registration_id = of(ud).registration_id;
    return SG_SUCCESS;
  }
  static int save_identity(const signal_protocol_address* address, std::uint8_t* key_data,
                           std::size_t key_len, void* ud) {
    Impl& self = of(ud);
    if (key_data == nullptr) {
      self.identities.erase(key_of(address));
    } else {
      self.identities[key_of(address)] = Bytes(key_data, key_data + key_len);
    }
    return SG_SUCCESS;
  }
  static int is_trusted_identity(const signal_protocol_address* address, std::uint8_t* key_data,
                                 std::size_t key_len, void* ud) {
    Impl& self = of(ud);
    auto it = self.identities.find(key_of(address));
    if (it == self.identities.end()) return 1;
    return it->second == Bytes(key_data, key_data + key_len) ? 1 : 0;
  }

  void setup() {
    check(signal_context_create(&ctx, this), "signal_context_create");
    signal_crypto_provider provider{};
    provider.random_func = &random_func;
    provider.hmac_sha256_init_func = &hmac_init;
    provider.hmac_sha256_update_func = &hmac_update;
    provider.hmac_sha256_final_func = &hmac_final;
    provider.hmac_sha256_cleanup_func = &hmac_cleanup;
    provider.sha512_digest_init_func = &sha512_init;
    provider.sha512_digest_update_func = &sha512_update;
    provider.sha512_digest_final_func = &sha512_final;
    provider.sha512_digest_cleanup_func = &sha512_cleanup;
    provider.encrypt_func = &encrypt_func;
    provider.decrypt_func = &decrypt_func;
    provider.user_data = this;
    check(signal_context_set_crypto_provider(ctx, &provider), "set_crypto_provider");
    check(signal_context_set_locking_functions(ctx, &lock, &unlock), "set_locking_functions");
    check(signal_context_set_log_function(ctx, &log_line), "set_log_function");

    check(signal_protocol_store_context_create(&store, ctx), "store_context_create");
    signal_protocol_session_store session_store{};
    session_store.load_session_func = &Guard<&load_session>::call;
    session_store.get_sub_device_sessions_func = &Guard<&get_sub_device_sessions>::call;
    session_store.store_session_func = &Guard<&store_session>::call;
    session_store.contains_session_func = &Guard<&contains_session>::call;
    session_store.delete_session_func = &Guard<&delete_session>::call;
    session_store.delete_all_sessions_func = &Guard<&delete_all_sessions>::call;
    session_store.destroy_func = &destroy_store;
    session_store.user_data = this;
    check(signal_protocol_store_context_set_session_store(store, &session_store), "session store");

    signal_protocol_pre_key_store pre_key_store{};
    pre_key_store.load_pre_key = &Guard<&load_pre_key>::call;
    pre_key_store.store_pre_key = &Guard<&store_pre_key>::call;
    pre_key_store.contains_pre_key = &Guard<&contains_pre_key>::call;
    pre_key_store.remove_pre_key = &Guard<&remove_pre_key>::call;
    pre_key_store.destroy_func = &destroy_store;
    pre_key_store.user_data = this;
    check(signal_protocol_store_context_set_pre_key_store(store, &pre_key_store), "prekey store");

    signal_protocol_signed_pre_key_store signed_store{};
    signed_store.load_signed_pre_key = &Guard<&load_signed_pre_key>::call;
    signed_store.store_signed_pre_key = &Guard<&store_signed_pre_key>::call;
    signed_store.contains_signed_pre_key = &Guard<&contains_signed_pre_key>::call;
    signed_store.remove_signed_pre_key = &Guard<&remove_signed_pre_key>::call;
    signed_store.destroy_func = &destroy_store;
    signed_store.user_data = this;
    check(signal_protocol_store_context_set_signed_pre_key_store(store, &signed_store),
          "signed prekey store");

    signal_protocol_identity_key_store identity_store{};
    identity_store.get_identity_key_pair = &Guard<&get_identity_key_pair>::call;
    identity_store.get_local_registration_id = &Guard<&get_local_registration_id>::call;
    identity_store.save_identity = &Guard<&save_identity>::call;
    identity_store.is_trusted_identity = &Guard<&is_trusted_identity>::call;
    identity_store.destroy_func = &destroy_store;
    identity_store.user_data = this;
    check(signal_protocol_store_context_set_identity_key_store(store, &identity_store),
          "identity store");

    signal_protocol_sender_key_store sender_key_store{};
    sender_key_store.store_sender_key = &Guard<&store_sender_key>::call;
    sender_key_store.load_sender_key = &Guard<&load_sender_key>::call;
    sender_key_store.destroy_func = &destroy_store;
    sender_key_store.user_data = this;
    check(signal_protocol_store_context_set_sender_key_store(store, &sender_key_store),
          "sender key store");
  }

  void generate_keys(std::uint32_t prekey_start, std::uint32_t prekey_count) {
    Ref<ratchet_identity_key_pair> identity;
    check(signal_protocol_key_helper_generate_identity_key_pair(identity.out(), ctx),
          "generate_identity_key_pair");
    identity_public = serialize_public(ratchet_identity_key_pair_get_public(identity.get()));
    {
      Buf priv(true);
      check(ec_private_key_serialize(priv.out(),
                                     ratchet_identity_key_pair_get_private(identity.get())),
            "ec_private_key_serialize");
      identity_private = priv.bytes();
    }
    check(signal_protocol_key_helper_generate_registration_id(&registration_id, 0, ctx),
          "generate_registration_id");

    Ref<session_signed_pre_key> spk;
    check(signal_protocol_key_helper_generate_signed_pre_key(
              spk.out(), identity.get(), signed_pre_key_id, 1'700'000'000'000ULL, ctx),
          "generate_signed_pre_key");
    {
      Buf b(true);
      check(session_signed_pre_key_serialize(b.out(), spk.get()), "signed prekey serialize");
      signed_pre_keys[signed_pre_key_id] = b.bytes();
    }

    if (prekey_count > 0) {
      signal_protocol_key_helper_pre_key_list_node* head = nullptr;
      check(signal_protocol_key_helper_generate_pre_keys(&head, prekey_start, prekey_count, ctx),
            "generate_pre_keys");
      try {
        for (auto* node = head; node != nullptr;
             node = signal_protocol_key_helper_key_list_next(node)) {
          session_pre_key* pk = signal_protocol_key_helper_key_list_element(node);
          Buf b(true);
          check(session_pre_key_serialize(b.out(), pk), "prekey serialize");
          pre_keys[session_pre_key_get_id(pk)] = b.bytes();
        }
      } catch (...) {
        signal_protocol_key_helper_key_list_free(head);
        throw;
      }
      signal_protocol_key_helper_key_list_free(head);
    }
  }

  // Decodes a hush public key into a libsignal one.
  int decode(const PublicKey& key, Ref<ec_public_key>& out) const {
    const auto s = key.serialize();
    return curve_decode_point(out.out(), s.data(), s.size(), ctx);
  }
};

// ---- LscPeer ----

LscPeer::LscPeer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LscPeer::LscPeer(LscPeer&&) noexcept = default;
LscPeer& LscPeer::operator=(LscPeer&&) noexcept = default;
LscPeer::~LscPeer() = default;

LscPeer LscPeer::create(std::string name, std::uint32_t device_id, std::uint32_t prekey_start,
                        std::uint32_t prekey_count, std::optional<std::uint64_t> seed) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(name);
  impl->device_id = device_id;
  if (seed) {
    impl->seeded = std::make_unique<SeededSource>(*seed);
    impl->random = impl->seeded.get();
  } else {
    impl->random = &system_random();
  }
  impl->setup();
  impl->generate_keys(prekey_start, prekey_count);
  return LscPeer(std::move(impl));
}

Address LscPeer::address() const {
  return Address{impl_->name, DeviceId{impl_->device_id}};
}

IdentityKey LscPeer::identity_key() const {
  auto k = PublicKey::parse(impl_->identity_public);
  if (!k) throw std::runtime_error("libsignal harness: identity key does not parse in hush");
  return *k;
}

Bytes LscPeer::identity_key_bytes() const {
  return impl_->identity_public;
}

std::uint32_t LscPeer::registration_id() const {
  return impl_->registration_id;
}

std::uint32_t LscPeer::signed_pre_key_id() const {
  return impl_->signed_pre_key_id;
}

PreKeyBundle LscPeer::bundle(std::optional<std::uint32_t> prekey_id) const {
  const Impl& d = *impl_;
  PreKeyBundle b;
  b.registration_id = d.registration_id;
  b.device_id = DeviceId{d.device_id};
  b.identity_key = identity_key();

  const Bytes& spk_bytes = d.signed_pre_keys.at(d.signed_pre_key_id);
  Ref<session_signed_pre_key> spk;
  check(session_signed_pre_key_deserialize(spk.out(), spk_bytes.data(), spk_bytes.size(), d.ctx),
        "signed prekey deserialize");
  b.signed_pre_key_id = SignedPreKeyId{session_signed_pre_key_get_id(spk.get())};
  auto spk_pub = PublicKey::parse(
      serialize_public(ec_key_pair_get_public(session_signed_pre_key_get_key_pair(spk.get()))));
  auto sig = Signature::parse(ByteView(session_signed_pre_key_get_signature(spk.get()),
                                       session_signed_pre_key_get_signature_len(spk.get())));
  if (!spk_pub || !sig) throw std::runtime_error("libsignal harness: signed prekey unparsable");
  b.signed_pre_key = *spk_pub;
  b.signed_pre_key_signature = *sig;

  if (prekey_id) {
    auto it = d.pre_keys.find(*prekey_id);
    if (it == d.pre_keys.end())
      throw std::runtime_error("libsignal harness: bundle for a prekey we do not hold");
    Ref<session_pre_key> pk;
    check(session_pre_key_deserialize(pk.out(), it->second.data(), it->second.size(), d.ctx),
          "prekey deserialize");
    auto pub = PublicKey::parse(
        serialize_public(ec_key_pair_get_public(session_pre_key_get_key_pair(pk.get()))));
    if (!pub) throw std::runtime_error("libsignal harness: prekey unparsable");
    b.pre_key_id = PreKeyId{session_pre_key_get_id(pk.get())};
    b.pre_key = *pub;
  }
  return b;
}

int LscPeer::process_bundle(const Address& remote, const PreKeyBundle& bundle) {
  Impl& d = *impl_;
  Ref<ec_public_key> identity;
  Ref<ec_public_key> signed_pre_key;
  Ref<ec_public_key> pre_key;
  if (int rc = d.decode(bundle.identity_key, identity); rc < 0) return rc;
  if (int rc = d.decode(bundle.signed_pre_key, signed_pre_key); rc < 0) return rc;
  if (bundle.pre_key) {
    if (int rc = d.decode(*bundle.pre_key, pre_key); rc < 0) return rc;
  }
  const std::uint32_t pre_key_id = bundle.pre_key_id ? to_uint(*bundle.pre_key_id) : 0;

  Ref<session_pre_key_bundle> lsc_bundle;
  int rc = session_pre_key_bundle_create(
      lsc_bundle.out(), bundle.registration_id, static_cast<int>(to_uint(bundle.device_id)),
      pre_key_id, pre_key.get(), to_uint(bundle.signed_pre_key_id), signed_pre_key.get(),
      bundle.signed_pre_key_signature.bytes.data(), bundle.signed_pre_key_signature.bytes.size(),
      identity.get());
  if (rc < 0) return rc;

  LscAddress address(remote);
  session_builder* builder = nullptr;
  rc = session_builder_create(&builder, d.store, &address.address, d.ctx);
  if (rc < 0) return rc;
  rc = session_builder_process_pre_key_bundle(builder, lsc_bundle.get());
  session_builder_free(builder);
  return rc;
}

namespace {
// Owns a session_cipher.
class Cipher {
 public:
  Cipher(signal_protocol_store_context* store, const signal_protocol_address* a,
         signal_context* ctx) {
    rc_ = session_cipher_create(&cipher_, store, a, ctx);
  }
  ~Cipher() {
    if (cipher_ != nullptr) session_cipher_free(cipher_);
  }
  Cipher(const Cipher&) = delete;
  Cipher& operator=(const Cipher&) = delete;
  int rc() const noexcept { return rc_; }
  session_cipher* get() const noexcept { return cipher_; }

 private:
  session_cipher* cipher_ = nullptr;
  int rc_ = 0;
};
}  // namespace

LscCiphertext LscPeer::encrypt(const Address& remote, ByteView plaintext) {
  Impl& d = *impl_;
  LscAddress address(remote);
  LscCiphertext out;
  Cipher cipher(d.store, &address.address, d.ctx);
  if (out.rc = cipher.rc(); out.rc < 0) return out;
  Ref<ciphertext_message> message;
  out.rc = session_cipher_encrypt(cipher.get(), plaintext.data(), plaintext.size(), message.out());
  if (out.rc < 0) return out;
  out.type = ciphertext_message_get_type(message.get());
  out.serialized = buffer_bytes(ciphertext_message_get_serialized(message.get()));
  return out;
}

LscPlaintext LscPeer::decrypt(const Address& remote, int type, ByteView serialized) {
  Impl& d = *impl_;
  LscAddress address(remote);
  LscPlaintext out;
  Cipher cipher(d.store, &address.address, d.ctx);
  if (out.rc = cipher.rc(); out.rc < 0) return out;
  Buf plaintext(true);
  if (type == kLscPreKeyType) {
    Ref<pre_key_signal_message> message;
    out.rc = pre_key_signal_message_deserialize(message.out(), serialized.data(), serialized.size(),
                                                d.ctx);
    if (out.rc < 0) return out;
    out.rc = session_cipher_decrypt_pre_key_signal_message(cipher.get(), message.get(), nullptr,
                                                           plaintext.out());
  } else if (type == kLscWhisperType) {
    Ref<signal_message> message;
    out.rc = signal_message_deserialize(message.out(), serialized.data(), serialized.size(), d.ctx);
    if (out.rc < 0) return out;
    out.rc = session_cipher_decrypt_signal_message(cipher.get(), message.get(), nullptr,
                                                   plaintext.out());
  } else {
    out.rc = SG_ERR_INVAL;
    return out;
  }
  if (out.rc >= 0) out.plaintext = plaintext.bytes();
  return out;
}

bool LscPeer::has_session(const Address& remote) const {
  return impl_->sessions.count(
             {remote.name, static_cast<std::int32_t>(to_uint(remote.device_id))}) != 0;
}

std::optional<std::uint32_t> LscPeer::session_version(const Address& remote) {
  Impl& d = *impl_;
  LscAddress address(remote);
  Cipher cipher(d.store, &address.address, d.ctx);
  if (cipher.rc() < 0) return std::nullopt;
  std::uint32_t version = 0;
  if (session_cipher_get_session_version(cipher.get(), &version) < 0) return std::nullopt;
  return version;
}

std::optional<std::uint32_t> LscPeer::remote_registration_id(const Address& remote) {
  Impl& d = *impl_;
  LscAddress address(remote);
  Cipher cipher(d.store, &address.address, d.ctx);
  if (cipher.rc() < 0) return std::nullopt;
  std::uint32_t id = 0;
  if (session_cipher_get_remote_registration_id(cipher.get(), &id) < 0) return std::nullopt;
  return id;
}

std::optional<Bytes> LscPeer::session_record(const Address& remote) const {
  auto it =
      impl_->sessions.find({remote.name, static_cast<std::int32_t>(to_uint(remote.device_id))});
  if (it == impl_->sessions.end()) return std::nullopt;
  return it->second;
}

std::optional<Bytes> LscPeer::stored_identity(const Address& remote) const {
  auto it =
      impl_->identities.find({remote.name, static_cast<std::int32_t>(to_uint(remote.device_id))});
  if (it == impl_->identities.end()) return std::nullopt;
  return it->second;
}

std::size_t LscPeer::pre_key_count() const {
  return impl_->pre_keys.size();
}

bool LscPeer::has_pre_key(std::uint32_t id) const {
  return impl_->pre_keys.count(id) != 0;
}

namespace {
LscWhisperInfo whisper_info(const signal_message* m) {
  LscWhisperInfo info;
  info.version = signal_message_get_message_version(m);
  info.counter = signal_message_get_counter(m);
  info.ratchet_key = serialize_public(signal_message_get_sender_ratchet_key(m));
  info.body = buffer_bytes(signal_message_get_body(m));
  return info;
}
}  // namespace

LscWhisperInfo LscPeer::inspect_whisper(ByteView serialized) const {
  Ref<signal_message> m;
  const int rc =
      signal_message_deserialize(m.out(), serialized.data(), serialized.size(), impl_->ctx);
  if (rc < 0) {
    LscWhisperInfo info;
    info.rc = rc;
    return info;
  }
  return whisper_info(m.get());
}

LscPreKeyInfo LscPeer::inspect_prekey(ByteView serialized) const {
  LscPreKeyInfo info;
  Ref<pre_key_signal_message> m;
  info.rc =
      pre_key_signal_message_deserialize(m.out(), serialized.data(), serialized.size(), impl_->ctx);
  if (info.rc < 0) return info;
  const pre_key_signal_message* p = m.get();
  info.version = pre_key_signal_message_get_message_version(p);
  info.registration_id = pre_key_signal_message_get_registration_id(p);
  if (pre_key_signal_message_has_pre_key_id(p) != 0)
    info.pre_key_id = pre_key_signal_message_get_pre_key_id(p);
  info.signed_pre_key_id = pre_key_signal_message_get_signed_pre_key_id(p);
  info.base_key = serialize_public(pre_key_signal_message_get_base_key(p));
  info.identity_key = serialize_public(pre_key_signal_message_get_identity_key(p));
  const signal_message* inner = pre_key_signal_message_get_signal_message(p);
  info.inner = whisper_info(inner);
  info.inner_serialized = buffer_bytes(
      ciphertext_message_get_serialized(reinterpret_cast<const ciphertext_message*>(inner)));
  return info;
}

std::string LscPeer::log() const {
  return impl_->log;
}

void LscPeer::clear_log() {
  impl_->log.clear();
}

// ---- groups (sender keys) ----

namespace {
// A signal_protocol_sender_key_name that owns its strings.
struct LscSenderKeyName {
  LscSenderKeyName(std::string_view group, const Address& sender)
      : group_id(group), address(sender) {
    name.group_id = group_id.data();
    name.group_id_len = group_id.size();
    name.sender = address.address;
  }
  std::string group_id;
  LscAddress address;
  signal_protocol_sender_key_name name{};
};

// Owns a group_cipher.
class GroupCipher {
 public:
  GroupCipher(signal_protocol_store_context* store, const signal_protocol_sender_key_name* n,
              signal_context* ctx) {
    rc_ = group_cipher_create(&cipher_, store, n, ctx);
  }
  ~GroupCipher() {
    if (cipher_ != nullptr) group_cipher_free(cipher_);
  }
  GroupCipher(const GroupCipher&) = delete;
  GroupCipher& operator=(const GroupCipher&) = delete;
  int rc() const noexcept { return rc_; }
  group_cipher* get() const noexcept { return cipher_; }

 private:
  group_cipher* cipher_ = nullptr;
  int rc_ = 0;
};
}  // namespace

LscCiphertext LscPeer::group_create_distribution(std::string_view group) {
  Impl& d = *impl_;
  LscSenderKeyName name(group, address());
  LscCiphertext out;
  group_session_builder* builder = nullptr;
  if (out.rc = group_session_builder_create(&builder, d.store, d.ctx); out.rc < 0) return out;
  Ref<sender_key_distribution_message> message;
  out.rc = group_session_builder_create_session(builder, message.out(), &name.name);
  group_session_builder_free(builder);
  if (out.rc < 0) return out;
  out.type = ciphertext_message_get_type(reinterpret_cast<ciphertext_message*>(message.get()));
  out.serialized = buffer_bytes(
      ciphertext_message_get_serialized(reinterpret_cast<ciphertext_message*>(message.get())));
  return out;
}

int LscPeer::group_process_distribution(std::string_view group, const Address& sender,
                                        ByteView serialized) {
  Impl& d = *impl_;
  LscSenderKeyName name(group, sender);
  Ref<sender_key_distribution_message> message;
  int rc = sender_key_distribution_message_deserialize(message.out(), serialized.data(),
                                                       serialized.size(), d.ctx);
  if (rc < 0) return rc;
  group_session_builder* builder = nullptr;
  if (rc = group_session_builder_create(&builder, d.store, d.ctx); rc < 0) return rc;
  rc = group_session_builder_process_session(builder, &name.name, message.get());
  group_session_builder_free(builder);
  return rc;
}

LscCiphertext LscPeer::group_encrypt(std::string_view group, ByteView plaintext) {
  Impl& d = *impl_;
  LscSenderKeyName name(group, address());
  LscCiphertext out;
  GroupCipher cipher(d.store, &name.name, d.ctx);
  if (out.rc = cipher.rc(); out.rc < 0) return out;
  Ref<ciphertext_message> message;
  out.rc = group_cipher_encrypt(cipher.get(), plaintext.data(), plaintext.size(), message.out());
  if (out.rc < 0) return out;
  out.type = ciphertext_message_get_type(message.get());
  out.serialized = buffer_bytes(ciphertext_message_get_serialized(message.get()));
  return out;
}

LscPlaintext LscPeer::group_decrypt(std::string_view group, const Address& sender,
                                    ByteView serialized) {
  Impl& d = *impl_;
  LscSenderKeyName name(group, sender);
  LscPlaintext out;
  Ref<sender_key_message> message;
  out.rc =
      sender_key_message_deserialize(message.out(), serialized.data(), serialized.size(), d.ctx);
  if (out.rc < 0) return out;
  GroupCipher cipher(d.store, &name.name, d.ctx);
  if (out.rc = cipher.rc(); out.rc < 0) return out;
  Buf plaintext(true);
  out.rc = group_cipher_decrypt(cipher.get(), message.get(), nullptr, plaintext.out());
  if (out.rc < 0) return out;
  out.plaintext = plaintext.bytes();
  return out;
}

}  // namespace hush::interop
