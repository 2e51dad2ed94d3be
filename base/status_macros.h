// Status plumbing shared by every library: SPAT_RETURN_IF_ERROR and
// SPAT_ASSIGN_OR_RETURN (Abseil 20220623 ships neither).
//
//   SPAT_ASSIGN_OR_RETURN(torch::Tensor x, ReadIdxImages(path));
//   SPAT_RETURN_IF_ERROR(ValidateConfig(config));
#ifndef SPAT_BASE_STATUS_MACROS_H_
#define SPAT_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SPAT_STATUS_CONCAT_INNER_(a, b) a##b
#define SPAT_STATUS_CONCAT_(a, b) SPAT_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function if it is not OK.
#define SPAT_RETURN_IF_ERROR(expr)                 \
  do {                                             \
    ::absl::Status spat_status_ = (expr);          \
    if (!spat_status_.ok()) return spat_status_;   \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (a declaration or an lvalue).
#define SPAT_ASSIGN_OR_RETURN(lhs, rexpr)                                     \
  SPAT_ASSIGN_OR_RETURN_IMPL_(SPAT_STATUS_CONCAT_(spat_statusor_, __LINE__), \
                              lhs, rexpr)

#define SPAT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // SPAT_BASE_STATUS_MACROS_H_
