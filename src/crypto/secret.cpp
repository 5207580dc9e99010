// hush: secret memory helpers on OpenSSL (OPENSSL_cleanse, CRYPTO_memcmp).
#include <cstring>
#include <new>

#include <openssl/crypto.h>

#include <hush/secret.h>

namespace hush {

void secure_wipe(std::span<std::uint8_t> data) noexcept {
  if (!data.empty()) OPENSSL_cleanse(data.data(), data.size());
}

bool constant_time_equals(ByteView a, ByteView b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

SecretBytes::SecretBytes(std::size_t size)
    : data_(size ? new std::uint8_t[size]() : nullptr), size_(size) {}

SecretBytes SecretBytes::copy_of(ByteView data) {
  SecretBytes out(data.size());
  if (!data.empty()) std::memcpy(out.data_, data.data(), data.size());
  return out;
}

SecretBytes::~SecretBytes() {
  secure_wipe({data_, size_});
  delete[] data_;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    secure_wipe({data_, size_});
    delete[] data_;
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes SecretBytes::clone() const {
  return copy_of(expose());
}

void SecretBytes::truncate(std::size_t n) noexcept {
  if (n >= size_) return;
  secure_wipe({data_ + n, size_ - n});
  size_ = n;
}

}  // namespace hush
