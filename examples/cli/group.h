// hush-cli: the group (sender key) commands: create-distribution, process-distribution,
// group-encrypt, group-decrypt (hush/group.h). main.cpp parses the arguments and hands a group
// command over to run_group_command.
//
// Not responsible for: parsing the command line or the state directory's layout (main.cpp,
// state.h).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <hush/bytes.h>
#include <hush/secret.h>

namespace hush_cli {

/// The options the group commands take, besides --state (--group takes a value; --legacy does
/// not; --peer, --device and --count are main.cpp's).
inline constexpr std::string_view kGroupOption = "group";
inline constexpr std::string_view kLegacyOption = "legacy";

/// The group commands and the options each takes (besides --state).
const std::vector<std::pair<std::string_view, std::vector<std::string_view>>>& group_commands();

/// The --help text of the group commands.
extern const std::string_view kGroupUsage;

/// What a group command needs from main.cpp.
struct GroupCommandContext {
  /// The option values and flags as given.
  const std::map<std::string, std::string, std::less<>>& values;
  const std::set<std::string, std::less<>>& flags;
  /// Reads all of standard input (at most `limit` bytes, else a usage error).
  std::function<hush::SecretBytes(std::size_t limit)> read_stdin;
  /// Writes to standard output (a usage error if it cannot).
  std::function<void(hush::ByteView)> write_stdout;
};

/// Runs the group command `command` on the state in `dir_path`; returns the exit status (or
/// throws Failure, as the other commands).
int run_group_command(std::string_view command, const GroupCommandContext& context,
                      const std::string& dir_path);

}  // namespace hush_cli
