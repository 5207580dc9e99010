// hush integration tests: attachments through the Messenger: a file uploaded to a blob store (a
// relay that keeps only ciphertext), its pointer sent inside the encrypted message, received and
// downloaded by the recipient and by our other device's copy; neither the blob store nor the
// network sees the file or its key.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>

#include <hush/attachment.h>

#include "support/loopback.h"
#include "support/memory_io.h"
#include "support/messenger_user.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::LoopbackNetwork;
using hush::test::User;

namespace {

// A relay's blob store: ids it picks, ciphertext only.
class RelayBlobs final : public BlobStore {
 public:
  Result<std::string> put(ByteSource& blob, std::uint64_t size) override {
    Bytes data;
    std::array<std::uint8_t, 8192> buf{};
    for (;;) {
      auto n = blob.read(buf);
      if (!n) return n.error();
      if (*n == 0) break;
      data.insert(data.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    if (data.size() != size) return Error(Errc::kTransportFailure, "relay: size");
    std::string id = "b" + std::to_string(blobs.size());
    blobs[id] = std::move(data);
    return id;
  }
  Status get(std::string_view id, ByteSink& out) override {
    auto it = blobs.find(std::string(id));
    if (it == blobs.end()) return Error(Errc::kTransportFailure, "relay: no blob");
    return out.write(it->second);
  }
  std::map<std::string, Bytes> blobs;
};

bool contains(const Bytes& hay, ByteView needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

Bytes file_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("a message carries attachments that the recipient downloads",
          "[integration][attachment]") {
  LoopbackNetwork net;
  User alice("alice", 811, net), bob("bob", 812, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  RelayBlobs relay;
  Bytes photo(200'000);
  for (std::size_t i = 0; i < photo.size(); ++i)
    photo[i] = static_cast<std::uint8_t>(i * 7 + (i >> 9));
  const std::string secret_note = "the attic key is under the third stone";
  hush::test::SeededRandom random(5);
  hush::test::FixedClock clock;
  Context ctx{random, clock, nullptr};

  std::vector<AttachmentPointer> pointers;
  {
    hush::test::MemorySource s(photo);
    auto p = upload_attachment(ctx, relay, s, photo.size(), "image/jpeg", "holiday.jpg");
    REQUIRE(p);
    pointers.push_back(std::move(*p));
    hush::test::MemorySource t(as_bytes(secret_note));
    auto q = upload_attachment(ctx, relay, t, secret_note.size(), "text/plain", "../note.txt");
    REQUIRE(q);
    pointers.push_back(std::move(*q));
  }
  auto sent = alice.messenger.send("bob", as_bytes("two files"), pointers);
  REQUIRE(sent);
  auto& q = net.queue(bob.address());
  REQUIRE(q.size() == 1);
  auto got = bob.messenger.receive(q.front());
  q.pop_front();
  REQUIRE(got);
  REQUIRE(*got);
  CHECK(hush::test::text((*got)->plaintext) == "two files");
  REQUIRE((*got)->attachments.size() == 2);
  CHECK((*got)->attachments[0].file_name == "holiday.jpg");
  CHECK((*got)->attachments[1].content_type == "text/plain");

  hush::test::TempDir inbox;
  auto a = download_and_decrypt(relay, (*got)->attachments[0], inbox.path());
  auto b = download_and_decrypt(relay, (*got)->attachments[1], inbox.path());
  REQUIRE(a);
  REQUIRE(b);
  CHECK(file_bytes(*a) == photo);
  CHECK(b->filename() == "note.txt");
  CHECK(file_bytes(*b) == Bytes(secret_note.begin(), secret_note.end()));

  // Neither the relay's blobs nor the network's traffic hold a file, a piece of one, or a key.
  const ByteView photo_piece = ByteView(photo).subspan(1000, 32);
  for (const auto& [id, blob] : relay.blobs) {
    CHECK_FALSE(contains(blob, photo_piece));
    CHECK_FALSE(contains(blob, as_bytes(secret_note)));
  }
  for (const Bytes& e : net.traffic()) {
    CHECK_FALSE(contains(e, photo_piece));
    CHECK_FALSE(contains(e, as_bytes(secret_note)));
    for (const AttachmentPointer& p : pointers)
      CHECK_FALSE(contains(e, p.key.expose()));
  }
}

TEST_CASE("too many attachments are refused before anything is sent", "[integration][attachment]") {
  LoopbackNetwork net;
  User alice("alice", 813, net), bob("bob", 814, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  std::vector<AttachmentPointer> many(kMaxAttachmentsPerMessage + 1);
  for (auto& p : many)
    p.id = "x";
  auto sent = alice.messenger.send("bob", as_bytes("hi"), many);
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code() == Errc::kLimitExceeded);
  CHECK(net.queue(bob.address()).empty());
  many.pop_back();
  auto ok = alice.messenger.send("bob", as_bytes("hi"), many);
  REQUIRE(ok);
  auto got = bob.messenger.receive(net.queue(bob.address()).front());
  REQUIRE(got);
  REQUIRE(*got);
  CHECK((*got)->attachments.size() == kMaxAttachmentsPerMessage);
}
