// hush tests: a worker process for the multi-process tests. It opens an existing SqliteStore
// database and, as the device in it, encrypts N messages to a peer or decrypts messages from a
// file, printing one line per message: "<type> <hex>" for encrypt, "<plaintext>" for decrypt.
//
//   store_worker encrypt DB PEER N TEXT
//   store_worker decrypt DB PEER FILE        (FILE: lines "<type> <hex>")
//
// Public API only. Exit status 0 if every operation succeeded.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <hush/hush.h>

int main(int argc, char** argv) {
  if (argc != 6 && argc != 5) {
    std::fputs("usage: store_worker encrypt DB PEER N TEXT | decrypt DB PEER FILE\n", stderr);
    return 64;
  }
  const std::string action = argv[1];
  auto store = hush::SqliteStore::open(argv[2]);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", std::string(hush::to_string(store.error().code())).c_str());
    return 1;
  }
  const hush::Context ctx = hush::default_context();
  const hush::Address peer{argv[3], hush::DeviceId{1}};
  if (action == "encrypt" && argc == 6) {
    const int n = std::atoi(argv[4]);
    for (int i = 0; i < n; ++i) {
      auto m = hush::encrypt_message(ctx, **store, peer, hush::as_bytes(argv[5]));
      if (!m) {
        std::fprintf(stderr, "encrypt: %s\n",
                     std::string(hush::to_string(m.error().code())).c_str());
        return 1;
      }
      std::printf("%d %s\n", static_cast<int>(m->type()), hush::to_hex(m->serialized()).c_str());
    }
    return 0;
  }
  if (action == "decrypt" && argc == 5) {
    std::ifstream in(argv[4]);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      int type = 0;
      std::string hex;
      fields >> type >> hex;
      auto bytes = hush::from_hex(hex);
      if (!bytes) return 1;
      auto msg = hush::CiphertextMessage::parse(static_cast<hush::MessageType>(type), *bytes);
      if (!msg) return 1;
      auto p = hush::decrypt_message(ctx, **store, peer, *msg);
      if (!p) {
        std::fprintf(stderr, "decrypt: %s\n",
                     std::string(hush::to_string(p.error().code())).c_str());
        return 1;
      }
      std::printf("%.*s\n", static_cast<int>(p->size()),
                  reinterpret_cast<const char*>(p->expose().data()));
    }
    return 0;
  }
  return 64;
}
