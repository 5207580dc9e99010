// hush crash tests: a child process (crash_peer) runs a long two-party conversation on SqliteStore
// and is killed with SIGKILL again and again, first at its n-th write for n = 1, 2, ... 13, 1, 2...
// (every store write, every commit from both sides, every log append and ack), then at random
// instants; it is restarted each time and carries on. At the end the child verifies that no
// message key was ever used twice, that every emitted message was decrypted exactly once with its
// plaintext stored, and that both sessions still work (see crash_peer.cpp).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "support/test_support.h"

extern char** environ;

namespace {

struct Outcome {
  bool killed = false;
  int exit_code = -1;
};

pid_t spawn_peer(const std::string& dir, const char* mode, long crash_at, const std::string& err) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string_view(*e).rfind("HUSH_CRASH_AT=", 0) != 0) env_strings.emplace_back(*e);
  if (crash_at > 0) env_strings.push_back("HUSH_CRASH_AT=" + std::to_string(crash_at));
  std::vector<char*> envp;
  for (auto& s : env_strings)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = {HUSH_CRASH_PEER, dir, mode};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, HUSH_CRASH_PEER, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  return pid;
}

Outcome wait_for(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  Outcome o;
  if (WIFSIGNALED(status)) {
    o.killed = WTERMSIG(status) == SIGKILL;
  } else if (WIFEXITED(status)) {
    o.exit_code = WEXITSTATUS(status);
  }
  return o;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs the child to the end with nothing killed, then verifies.
void finish_and_verify(const std::string& dir, const std::string& err) {
  Outcome last = wait_for(spawn_peer(dir, "run", 0, err));
  INFO(read_file(err));
  REQUIRE(last.exit_code == 0);
  Outcome verified = wait_for(spawn_peer(dir, "verify", 0, err));
  INFO(read_file(err));
  REQUIRE(verified.exit_code == 0);
}

}  // namespace

TEST_CASE("killed at every write point, the conversation loses nothing and reuses nothing",
          "[crash]") {
  hush::test::TempDir dir;
  const std::string err = dir.file("stderr.log");
  REQUIRE(wait_for(spawn_peer(dir.path(), "setup", 0, err)).exit_code == 0);
  int kills = 0;
  for (long round = 0;; ++round) {
    const long n = 1 + round % 13;
    const Outcome o = wait_for(spawn_peer(dir.path(), "run", n, err));
    if (o.killed) {
      ++kills;
      continue;
    }
    INFO(read_file(err));
    REQUIRE(o.exit_code == 0);  // complete (3 would be an invariant violation)
    break;
  }
  INFO("kills at write points: " << kills);
  CHECK(kills >= 150);
  finish_and_verify(dir.path(), err);
}

TEST_CASE("killed at random instants, the conversation loses nothing and reuses nothing",
          "[crash]") {
  const auto seed = Catch::rngSeed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  using Clock = std::chrono::steady_clock;
  int kills = 0, conversations = 0;
  // Fresh conversations until enough kills have landed; each is verified when it completes.
  while (kills < 150 && conversations < 20) {
    ++conversations;
    hush::test::TempDir dir;
    const std::string err = dir.file("stderr.log");
    REQUIRE(wait_for(spawn_peer(dir.path(), "setup", 0, err)).exit_code == 0);
    // How long an uninterrupted run takes here (it differs a lot between builds, sanitizers
    // included); kills then land uniformly within the first tenth of that, so every run is
    // likely to make some progress before it dies.
    const auto started = Clock::now();
    hush::test::TempDir probe;
    REQUIRE(wait_for(spawn_peer(probe.path(), "setup", 0, err)).exit_code == 0);
    REQUIRE(wait_for(spawn_peer(probe.path(), "run", 0, err)).exit_code == 0);
    const auto full = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    std::uniform_int_distribution<long> delay(0, std::max<long>(1000, full.count() / 10));
    for (int attempt = 0; attempt < 100; ++attempt) {
      const pid_t pid = spawn_peer(dir.path(), "run", 0, err);
      std::this_thread::sleep_for(std::chrono::microseconds(delay(rng)));
      ::kill(pid, SIGKILL);
      const Outcome o = wait_for(pid);
      if (o.killed) {
        ++kills;
        continue;
      }
      INFO(read_file(err));
      REQUIRE(o.exit_code == 0);
      break;
    }
    finish_and_verify(dir.path(), err);
  }
  INFO("kills at random instants: " << kills << " over " << conversations << " conversations");
  CHECK(kills >= 150);
}
