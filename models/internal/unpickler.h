// A small, bounds-checked unpickler for the protocol-2 (and common protocol-4)
// subset that torch.save and torch::pickle_save emit for state dicts: dicts,
// OrderedDicts, lists, tuples, ints, floats, strings, bools, None and tensors
// rebuilt through torch._utils._rebuild_tensor_v2 / _rebuild_parameter from
// persistent storage ids. Anything else is an error, never a crash.
//
//   absl::StatusOr<PyRef> root = Unpickle(pickle_bytes, load_storage, "ckpt.pt");
#ifndef SPAT_MODELS_INTERNAL_UNPICKLER_H_
#define SPAT_MODELS_INTERNAL_UNPICKLER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"

namespace spat::models::internal {

struct PyValue;
using PyRef = std::shared_ptr<PyValue>;

struct PyValue {
  enum class Kind {
    kNone, kBool, kInt, kFloat, kString, kTuple, kList, kDict, kGlobal,
    kTensor, kMark
  };
  Kind kind = Kind::kNone;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;              // kString; kGlobal: "module.name"
  std::vector<PyRef> items;   // kTuple, kList
  std::vector<std::pair<PyRef, PyRef>> dict;  // kDict, insertion order
  at::Tensor tensor;          // kTensor
};

// Resolves a persistent id (the tuple ('storage', StorageType, key, location,
// numel)) to a 1-D tensor holding the storage's elements.
using StorageLoader =
    std::function<absl::StatusOr<at::Tensor>(const PyValue& persistent_id)>;

// `name` prefixes every error message.
absl::StatusOr<PyRef> Unpickle(const std::string& bytes,
                               const StorageLoader& load_storage,
                               const std::string& name);

// Maps a storage GLOBAL such as "torch.FloatStorage" to its dtype.
absl::StatusOr<at::ScalarType> StorageDtype(const std::string& global);

}  // namespace spat::models::internal

#endif  // SPAT_MODELS_INTERNAL_UNPICKLER_H_
