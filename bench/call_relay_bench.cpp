// hush benchmarks: how many concurrent calls one core of the chat example's relay can forward
// (issue 13). Two measurements:
//
//  - switch/decide: CallSwitch::on_datagram (examples/chat/sfu.h) for one media datagram of a
//    1:1 call while `calls` calls of two members are held: the relay's own decision per datagram
//    (which call, which endpoints), without the sockets.
//  - udp/forward: a real loopback UDP round through the relay's loop, on one thread: a client
//    socket sends a 1,000-byte media datagram, the relay socket receives it, decides, sends it to
//    the other member, whose socket receives it. One iteration is one datagram forwarded; its
//    CPU time includes the client's send and the receiver's recv (about half the system calls),
//    so it bounds the relay's own cost from above.
//
// Calls per core = 1 / (cost per datagram x datagrams per second of a call). A 1:1 call of
// hush-chat (media.h) sends, per direction, 50 Opus datagrams and 10 VP8 frames of one or two
// datagrams a second: about 70 datagrams in and 70 out per direction, 140 forwarded a second.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <benchmark/benchmark.h>

#include "sfu.h"

namespace {

using hush_chat::CallKey;
using hush_chat::CallSwitch;
using hush_chat::Endpoint;

CallKey key_of(std::uint32_t i) {
  CallKey k{};
  std::memcpy(k.data(), &i, sizeof i);
  k[15] = 0x5a;
  return k;
}

// Grants and joins two members (endpoints 2i and 2i+1) for each of `calls` calls.
void fill(CallSwitch& sw, std::uint32_t calls) {
  for (std::uint32_t i = 0; i < calls; ++i)
    for (std::uint32_t m = 0; m < 2; ++m) {
      const auto token = sw.grant("user" + std::to_string(i) + "/" + std::to_string(m), key_of(i));
      if (!token) std::abort();
      std::array<std::uint8_t, hush_chat::kJoinDatagramBytes> join{'J'};
      const CallKey k = key_of(i);
      std::copy(k.begin(), k.end(), join.begin() + 1);
      std::copy(token->begin(), token->end(), join.begin() + 17);
      std::vector<Endpoint> out;
      const Endpoint from{0x7f000001, static_cast<std::uint16_t>(1000 + 2 * i + m)};
      if (sw.on_datagram(from, join.data(), join.size(), out) != hush_chat::SwitchVerdict::kJoined)
        std::abort();
    }
}

std::vector<std::uint8_t> media_datagram(const CallKey& k, std::size_t size) {
  std::vector<std::uint8_t> d(size, 0x33);
  d[0] = 'M';
  std::copy(k.begin(), k.end(), d.begin() + 1);
  return d;
}

void BM_SwitchDecide(benchmark::State& state) {
  const auto calls = static_cast<std::uint32_t>(state.range(0));
  CallSwitch sw;
  fill(sw, calls);
  const std::uint32_t target = calls / 2;
  const auto d = media_datagram(key_of(target), 1000);
  const Endpoint from{0x7f000001, static_cast<std::uint16_t>(1000 + 2 * target)};
  std::vector<Endpoint> out;
  for (auto _ : state) {
    auto v = sw.on_datagram(from, d.data(), d.size(), out);
    benchmark::DoNotOptimize(v);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SwitchDecide)->Name("switch/decide")->Arg(1)->Arg(100)->Arg(2000);

int udp_socket(sockaddr_in& addr) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    std::abort();
  return fd;
}

void BM_UdpForward(benchmark::State& state) {
  sockaddr_in relay_addr{}, a_addr{}, b_addr{};
  const int relay = udp_socket(relay_addr), a = udp_socket(a_addr), b = udp_socket(b_addr);
  CallSwitch sw;
  fill(sw, 1000);  // other calls held meanwhile
  const CallKey k = key_of(5000);
  const Endpoint ea{ntohl(a_addr.sin_addr.s_addr), ntohs(a_addr.sin_port)};
  const Endpoint eb{ntohl(b_addr.sin_addr.s_addr), ntohs(b_addr.sin_port)};
  for (const auto& [who, e] : {std::pair{"a", ea}, std::pair{"b", eb}}) {
    const auto token = sw.grant(who, k);
    std::array<std::uint8_t, hush_chat::kJoinDatagramBytes> join{'J'};
    std::copy(k.begin(), k.end(), join.begin() + 1);
    std::copy(token->begin(), token->end(), join.begin() + 17);
    std::vector<Endpoint> out;
    if (sw.on_datagram(e, join.data(), join.size(), out) != hush_chat::SwitchVerdict::kJoined)
      std::abort();
  }
  const auto d = media_datagram(k, 1000);
  std::array<std::uint8_t, hush_chat::kMaxDatagramBytes + 1> buf{};
  std::vector<Endpoint> out;
  for (auto _ : state) {
    ::sendto(a, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&relay_addr),
             sizeof relay_addr);
    // The relay's loop (relay.cpp forward_datagram): receive, decide, send to each.
    sockaddr_in from{};
    socklen_t flen = sizeof from;
    const ssize_t n =
        ::recvfrom(relay, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n <= 0) std::abort();
    const Endpoint e{ntohl(from.sin_addr.s_addr), ntohs(from.sin_port)};
    if (sw.on_datagram(e, buf.data(), static_cast<std::size_t>(n), out) !=
        hush_chat::SwitchVerdict::kForwarded)
      std::abort();
    for (const Endpoint& to : out) {
      sockaddr_in t{};
      t.sin_family = AF_INET;
      t.sin_addr.s_addr = htonl(to.address);
      t.sin_port = htons(to.port);
      ::sendto(relay, buf.data(), static_cast<std::size_t>(n), 0,
               reinterpret_cast<const sockaddr*>(&t), sizeof t);
    }
    if (::recv(b, buf.data(), buf.size(), 0) != n) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
  ::close(relay);
  ::close(a);
  ::close(b);
}
BENCHMARK(BM_UdpForward)->Name("udp/forward");

}  // namespace

BENCHMARK_MAIN();
