// hush (internal): running an operation in one store transaction, the way every protocol
// operation (session.cpp, group_cipher.cpp) commits its work: the body computes its result on
// copies, the store writes happen inside, and the result is handed out only if the transaction
// committed (rule 1: a failed operation changes no stored state).
#pragma once

#include <hush/result.h>
#include <hush/store.h>

#include <optional>
#include <utility>

// Returns the error of a Status-valued expression from the enclosing function.
#define HUSH_TRY(expr)                                                                      \
  do {                                                                                      \
    if (auto hush_try_status_ = (expr); !hush_try_status_) return hush_try_status_.error(); \
  } while (false)

namespace hush::internal {

// Runs `body` in a transaction and returns its value; the value is produced inside the body and
// handed out only if the transaction committed.
template <class T, class Body>
Result<T> transact(ProtocolStore& store, Body&& body) {
  std::optional<Result<T>> out;
  Status st = store.run_transaction([&]() -> Status {
    out.emplace(body());
    if (!*out) return out->error();
    return ok_status();
  });
  if (!st) return st.error();
  if (!out) return Error(Errc::kStoreFailure, "run_transaction: body did not run");
  return std::move(*out);
}

}  // namespace hush::internal
