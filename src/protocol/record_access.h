// hush internal: access to a SessionRecord's state for the library's own code.
#pragma once

#include <hush/session_record.h>

#include "protocol/ratchet/session_state.h"

namespace hush::internal {

struct RecordAccess {
  static RecordData& data(SessionRecord& r) { return *r.d_; }
  static const RecordData& data(const SessionRecord& r) { return *r.d_; }
};

}  // namespace hush::internal
