// hush_spqr_peer: one SPQR v1 side (src/pq/spqr.h) driven line by line over stdin/stdout, for the
// differential run against the JavaScript model (tools/spqr_js_differential.mjs). Test-only.
//
//   init i|r SEEDHEX            -> ok            (initiator or responder, 32-byte seed)
//   send                        -> MSGHEX KEYHEX
//   recv MSGHEX                 -> KEYHEX | error NAME
//   epoch                       -> N
#include <iostream>
#include <sstream>
#include <string>

#include <hush/bytes.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "pq/spqr.h"

int main() {
  using namespace hush;
  RandomSource& random = system_random();
  bool ready = false;
  SecretBytes state;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "init") {
      std::string role, seed_hex;
      in >> role >> seed_hex;
      auto seed_bytes = from_hex(seed_hex);
      SecretArray<32> seed;
      if (!seed_bytes || !SecretArray<32>::from(*seed_bytes, seed)) {
        std::cout << "error bad_seed" << std::endl;
        continue;
      }
      auto s = pq::spqr_initial_state(
          seed, role == "i" ? pq::SpqrRole::kInitiator : pq::SpqrRole::kResponder, false);
      if (!s) {
        std::cout << "error " << to_string(s.error().code()) << std::endl;
        continue;
      }
      state = std::move(*s);
      ready = true;
      std::cout << "ok" << std::endl;
    } else if (cmd == "send" && ready) {
      auto r = pq::spqr_send(state.expose(), random);
      if (!r) {
        std::cout << "error " << to_string(r.error().code()) << " (" << r.error().where() << ")"
                  << std::endl;
        continue;
      }
      state = std::move(r->state);
      std::cout << to_hex(r->message) << ' ' << to_hex(r->key.expose()) << std::endl;
    } else if (cmd == "recv") {
      std::string hex;
      in >> hex;
      auto m = from_hex(hex);
      auto r = pq::spqr_recv(state.expose(), m.value_or(Bytes{}));
      if (!r) {
        std::cout << "error " << to_string(r.error().code()) << " (" << r.error().where() << ")"
                  << std::endl;
        continue;
      }
      state = std::move(r->state);
      std::cout << to_hex(r->key.expose()) << std::endl;
    } else if (cmd == "epoch") {
      auto e = pq::spqr_epoch(state.expose());
      std::cout << (e ? std::to_string(*e) : std::string("error")) << std::endl;
    } else {
      std::cout << "error unknown_command" << std::endl;
    }
  }
  return 0;
}
