// hush: the version of the linked library.
#include <hush/version.h>

namespace hush {

#define HUSH_STR2(x) #x
#define HUSH_STR(x) HUSH_STR2(x)
std::string_view version_string() noexcept {
  return HUSH_STR(HUSH_VERSION_MAJOR) "." HUSH_STR(HUSH_VERSION_MINOR) "." HUSH_STR(
      HUSH_VERSION_PATCH);
}

}  // namespace hush
