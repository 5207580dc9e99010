/// @file
/// Attachments: a file encrypted under a fresh key, stored as ciphertext in a caller-supplied
/// BlobStore, and sent as an AttachmentPointer (blob id, key, digest, size, content type, file
/// name) inside an encrypted message.
///
/// Format (version 1). The blob is an 8-byte header (the version byte 0x01 and a random 7-byte
/// nonce prefix) followed by segments: the plaintext is cut into 64 KiB pieces (the last one
/// shorter, or empty for an empty file), and piece i is sealed with AES-256-GCM under the file's
/// key, nonce = prefix || i (4 bytes, big-endian) || last (1 if it is the final piece, else 0),
/// and the header as associated data, giving the piece followed by its 16-byte tag. Each segment
/// so authenticates its position and whether it ends the file: reordering, splicing from another
/// file, truncation at a segment boundary and extension all fail (the construction of Hoang,
/// Reyhanitabar, Rogaway and Vizár's "online AE", the STREAM of Tink's streaming AEAD). The digest
/// is SHA-256 over the whole blob. The key is fresh for every file, so a nonce never repeats under
/// a key; the prefix makes that hold even for a caller who reuses one.
///
/// Why this shape: memory stays bounded (one segment, about 64 KiB, whatever the file size);
/// a segment is decrypted only once its tag verified, so no unauthenticated plaintext is ever
/// released; GCM and SHA-256 run on AES-NI/VAES and SHA-NI (bench/README.md gives the speed).
///
/// Receiving. download_and_decrypt() first copies the blob into a spool file next to the
/// destination, counting and hashing it (refusing more bytes than the pointer's size implies), and
/// checks size and digest BEFORE any plaintext is written; it then decrypts the spool (which the
/// server can no longer change: it is read once) into a temporary file, which is linked into
/// place under the sanitized file name only when every segment authenticated. On any failure no
/// file is left behind (a process killed midway can leave a private ".hush-spool-*" or
/// ".hush-part-*" file in the directory, which an application may delete at start-up).
///
/// What the server (the blob store) can still do: see the size of every blob and who uploads and
/// fetches it and when, withhold or delete blobs, and serve other bytes (refused with
/// kDigestMismatch, nothing written). It never sees a key: the pointer travels only inside the
/// end-to-end encrypted message. A sender can send any bytes it likes, as with any message.
///
/// Not responsible for: the transfer itself (the BlobStore is the caller's), retries, thumbnails,
/// or deciding which content types are safe to open.
///
/// Thread-safety: the functions are re-entrant; one AttachmentPointer, source, sink or store is
/// not synchronised. Encrypting a file of 1 MiB or more (encrypt_attachment, upload_attachment)
/// hashes the blob on a second thread that the call starts and joins before it returns (the one
/// place the library runs a thread: SHA-256 beside AES-GCM rather than after it); the source, the
/// sink and the store are only ever called from the caller's thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include <hush/bytes.h>
#include <hush/context.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush {

/// Bytes read piece by piece (a file, memory, a socket), so that nothing holds a whole file.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Reads up to `buffer.size()` bytes into `buffer` and returns how many; 0 only at the end.
  /// Errors are the implementation's (e.g. kStoreFailure for a file that cannot be read).
  virtual Result<std::size_t> read(std::span<std::uint8_t> buffer) = 0;
};

/// Where bytes are written piece by piece.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  /// Takes all of `data`, or fails (then the writer stops and returns the error).
  virtual Status write(ByteView data) = 0;
};

/// Stores blobs of ciphertext (a server's upload and download endpoints, a directory, ...).
/// Supplied by the application. It only ever sees ciphertext, and is not trusted: what get()
/// returns is checked against the pointer's size and digest.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  /// Stores the `size` bytes that reading `blob` to its end yields, and returns the id under
  /// which get() finds them (the store picks it; it must be a valid attachment id, see
  /// is_valid_attachment_id). kTransportFailure if the store cannot be reached; a read error
  /// from `blob` should be returned as it is.
  virtual Result<std::string> put(ByteSource& blob, std::uint64_t size) = 0;
  /// Writes the blob stored under `id` to `out`, piece by piece, and stops with the sink's error
  /// if a write fails. kTransportFailure if the store cannot be reached or holds no such blob.
  virtual Status get(std::string_view id, ByteSink& out) = 0;
};

/// The size of an attachment key (AES-256).
inline constexpr std::size_t kAttachmentKeyBytes = 32;
/// The size of an attachment digest (SHA-256 over the whole blob).
inline constexpr std::size_t kAttachmentDigestBytes = 32;

/// Where an attachment is and how to open it (proto/attachment.proto AttachmentPointer). Carries
/// the key, so it is a secret: it travels only inside an encrypted message, and is move-only.
struct AttachmentPointer {
  /// The blob's id in the BlobStore (1 to kMaxAttachmentIdBytes of A-Z a-z 0-9 '-' '_').
  std::string id;
  /// The file's key (fresh for every file).
  SecretArray<kAttachmentKeyBytes> key;
  /// SHA-256 of the whole blob (ciphertext).
  std::array<std::uint8_t, kAttachmentDigestBytes> digest{};
  /// The plaintext's size in bytes (at most kMaxAttachmentBytes); fixes the blob's size.
  std::uint64_t size = 0;
  /// The MIME type the sender names (at most kMaxAttachmentContentTypeBytes of printable ASCII;
  /// may be empty). Untrusted: the sender's claim.
  std::string content_type;
  /// The file name the sender names (at most kMaxAttachmentFileNameBytes; may be empty).
  /// Untrusted: saved only as sanitized_attachment_file_name() of it.
  std::string file_name;

  /// An explicit copy (the key is a secret).
  AttachmentPointer clone() const;
  /// hush's format (proto/attachment.proto); holds the key, hence a SecretBytes.
  SecretBytes serialize() const;
  /// Parses a pointer (untrusted input; nothing is changed on failure). Errors: kLimitExceeded
  /// (longer than kMaxAttachmentPointerBytes, or an id, type or name over its limit),
  /// kAttachmentTooLarge (a size over kMaxAttachmentBytes), kInvalidProtobuf, kInvalidMessage (an
  /// unknown format, a missing field, a key or digest of the wrong size, an id with other
  /// characters, a content type that is not printable ASCII).
  static Result<AttachmentPointer> parse(ByteView data);
};

/// True for a usable blob id: 1 to kMaxAttachmentIdBytes of A-Z a-z 0-9 '-' '_' (so that a store
/// may use it as a file name or a URL path segment as it is).
bool is_valid_attachment_id(std::string_view id) noexcept;

/// The size of the blob for a plaintext of `plaintext_size` bytes: the 8-byte header, the
/// plaintext, and a 16-byte tag per 64 KiB segment (at least one segment).
std::uint64_t attachment_ciphertext_size(std::uint64_t plaintext_size) noexcept;

/// A file name that is safe to create in a directory: the last path component of `name` only,
/// with control characters, '/' and '\\' replaced by '_', leading dots removed (no hidden files,
/// no "." or ".."), cut to kMaxAttachmentFileNameBytes at a character boundary; "attachment" if
/// nothing is left.
std::string sanitized_attachment_file_name(std::string_view name);

/// What encrypt_attachment() made: the key and the blob's digest and sizes.
struct EncryptedAttachment {
  /// The fresh key.
  SecretArray<kAttachmentKeyBytes> key;
  /// SHA-256 of the whole blob.
  std::array<std::uint8_t, kAttachmentDigestBytes> digest{};
  /// The plaintext's size.
  std::uint64_t size = 0;
};

/// Encrypts the `size` bytes of `plaintext` under a fresh key, writing the blob to `ciphertext`
/// piece by piece (a few segments of memory). Errors: kAttachmentTooLarge (size over
/// kMaxAttachmentBytes), kInvalidArgument (the source yields more or fewer bytes than `size`),
/// kCryptoFailure (no randomness), and the source's and sink's errors.
Result<EncryptedAttachment> encrypt_attachment(const Context& ctx, ByteSource& plaintext,
                                               std::uint64_t size, ByteSink& ciphertext);

/// Decrypts a blob of a `size`-byte plaintext under `key`, writing each segment to `plaintext`
/// once its tag verified. Does NOT check the digest: download_and_decrypt() does that first, so
/// prefer it; use this on a blob whose digest is already checked. Errors: kAttachmentCorrupt (a
/// segment does not authenticate: wrong key or size, altered, reordered, truncated or extended;
/// segments written before stay written, but never the final one), kAttachmentTooLarge, and the
/// source's and sink's errors.
Status decrypt_attachment(const SecretArray<kAttachmentKeyBytes>& key, std::uint64_t size,
                          ByteSource& ciphertext, ByteSink& plaintext);

/// Encrypts the `size` bytes of `plaintext` and stores the blob in `store` while encrypting (no
/// copy of the file is kept), and returns the pointer to send. `content_type` and `file_name` are
/// checked against their limits (kLimitExceeded; kInvalidArgument for a type that is not printable
/// ASCII). Errors as encrypt_attachment, the store's, and kInvalidArgument if the store returns an
/// unusable id or stops reading early.
Result<AttachmentPointer> upload_attachment(const Context& ctx, BlobStore& store,
                                            ByteSource& plaintext, std::uint64_t size,
                                            std::string_view content_type,
                                            std::string_view file_name);

/// upload_attachment() for the file at `path`, named by its last path component. kStoreFailure if
/// it cannot be opened or read; kInvalidArgument if it changes size while read.
Result<AttachmentPointer> upload_attachment_file(const Context& ctx, BlobStore& store,
                                                 const std::filesystem::path& path,
                                                 std::string_view content_type);

/// Downloads the blob `pointer` names, checks its size and digest before writing any plaintext,
/// decrypts it and saves it in the existing directory `directory` under
/// sanitized_attachment_file_name(pointer.file_name) (with " (1)", " (2)", ... added before the
/// extension if that name is taken; an existing file is never replaced). Returns the saved file's
/// path. Errors: kDigestMismatch (the store served other bytes or another size), kAttachmentCorrupt
/// (a blob with the right digest that does not decrypt: the sender's doing), kAttachmentTooLarge,
/// kInvalidArgument (an invalid id, or no such directory), kLimitExceeded (too many files of that
/// name), kStoreFailure (a file cannot be written), the store's errors. On failure nothing is left
/// in `directory`.
Result<std::filesystem::path> download_and_decrypt(BlobStore& store,
                                                   const AttachmentPointer& pointer,
                                                   const std::filesystem::path& directory);

}  // namespace hush
