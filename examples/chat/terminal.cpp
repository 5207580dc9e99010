// hush chat example: hush-chat's screen and keyboard (see terminal.h).
#include "terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace hush_chat {

namespace {

constexpr std::size_t kMaxLine = std::size_t{80} << 10;

// Code points that change how the text around them shows without showing themselves: zero-width
// characters and marks (U+200B-200F), bidirectional embeddings and overrides (U+202A-202E) and
// isolates (U+2066-2069). A name or text with them could look like another ("bob" followed by an
// override that reverses what comes after it), so printable() shows each as one '?'.
bool invisible(std::uint32_t cp) {
  return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// The length of the UTF-8 sequence starting at s[i] if it is valid and not a control character
// (C0, DEL, C1), else 0; `*hidden` is set if it is an invisible() code point.
std::size_t valid_char(std::string_view s, std::size_t i, bool* hidden) {
  *hidden = false;
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return (c >= 0x20 && c != 0x7f) ? 1 : 0;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1Fu;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0Fu;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (b(k) & 0x3Fu);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  if (cp >= 0x80 && cp <= 0x9F) return 0;  // C1 controls
  *hidden = invisible(cp);
  return n;
}

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

std::string_view color(Terminal::Style style) {
  switch (style) {
    case Terminal::Style::kIncoming:
      return "\033[1m";
    case Terminal::Style::kOutgoing:
      return "\033[2m";
    case Terminal::Style::kInfo:
      return "\033[36m";
    case Terminal::Style::kError:
      return "\033[31m";
    case Terminal::Style::kAlarm:
      return "\033[1;97;41m";
    default:
      return "";
  }
}

std::size_t terminal_columns() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    bool hidden = false;
    const std::size_t n = valid_char(text, i, &hidden);
    if (n == 0) {
      out.push_back('?');
      ++i;
    } else if (hidden) {
      out.push_back('?');
      i += n;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

void Terminal::start() {
  if (!interactive_) return;
  const char* term = std::getenv("TERM");
  color_ = ::isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr && term &&
           std::string_view(term) != "dumb";
  if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | IEXTEN);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    raw.c_cc[VSUSP] = _POSIX_VDISABLE;  // no Ctrl-Z: a stopped chat would leave the terminal raw
    raw_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0;
  }
  prompt_shown_ = true;
  redraw();
}

Terminal::~Terminal() {
  if (!interactive_) return;
  if (prompt_shown_) write_out("\r\033[K");
  if (raw_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
}

void Terminal::write_out(std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to write: nothing more to do
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

void Terminal::print(std::string_view text, Style style) {
  std::string out;
  if (interactive_ && prompt_shown_) out += "\r\033[K";
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view one = text.substr(start, end - start);
    if (color_ && !color(style).empty()) {
      out += color(style);
      out += one;
      out += "\033[0m";
    } else {
      out += one;
    }
    out += '\n';
    start = end + 1;
  }
  write_out(out);
  if (interactive_ && prompt_shown_) redraw();
}

// The prompt and as much of the end of the line as fits on one row.
void Terminal::redraw() {
  const std::size_t room =
      terminal_columns() > prompt_.size() + 2 ? terminal_columns() - prompt_.size() - 2 : 1;
  std::size_t start = line_.size();
  std::size_t chars = 0;
  while (start > 0 && chars < room) {
    --start;
    while (start > 0 && is_continuation(line_[start]))
      --start;
    ++chars;
  }
  std::string out = "\r\033[K";
  out += prompt_;
  out += line_.substr(start);
  write_out(out);
}

void Terminal::set_prompt(std::string prompt) {
  prompt_ = printable(prompt);
  if (interactive_ && prompt_shown_) redraw();
}

bool Terminal::feed(const std::uint8_t* data, std::size_t size, std::vector<std::string>& lines) {
  for (std::size_t i = 0; i < size; ++i) {
    const auto c = static_cast<char>(data[i]);
    const auto u = data[i];
    if (escape_ == 1) {  // after ESC: a CSI ("ESC [") or SS3 ("ESC O") sequence, or a lone key
      escape_ = (c == '[' || c == 'O') ? 2 : 0;
      continue;
    }
    if (escape_ == 2) {  // parameters until a final byte in 0x40..0x7E
      if (u >= 0x40 && u <= 0x7E) escape_ = 0;
      continue;
    }
    const bool cr_lf = after_cr_ && c == '\n';
    after_cr_ = c == '\r';
    if (cr_lf) continue;
    switch (c) {
      case '\033':
        escape_ = 1;
        break;
      case '\r':
      case '\n':
        lines.push_back(line_);
        line_.clear();
        break;
      case 0x7f:
      case '\b':
        if (!line_.empty()) {
          while (line_.size() > 1 && is_continuation(line_.back()))
            line_.pop_back();
          line_.pop_back();
        }
        break;
      case 0x15:
        line_.clear();
        break;    // Ctrl-U
      case 0x17:  // Ctrl-W
        while (!line_.empty() && line_.back() == ' ')
          line_.pop_back();
        while (!line_.empty() && line_.back() != ' ')
          line_.pop_back();
        break;
      case 0x04:  // Ctrl-D
        if (line_.empty()) return false;
        break;
      case 0x0c:
        write_out("\033[H\033[2J");
        break;  // Ctrl-L
      default:
        // A line longer than any message could be is not extended past one byte over the limit:
        // enough for the caller to refuse it whole.
        if ((u >= 0x20 || c == '\t') && line_.size() <= kMaxLine)
          line_.push_back(c == '\t' ? ' ' : c);
        break;
    }
  }
  if (prompt_shown_) redraw();
  return true;
}

}  // namespace hush_chat
