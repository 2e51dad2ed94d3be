// PyTorch-compatible checkpoints: state dicts (name -> tensor, in module
// order) saved as zip-pickles that Python's torch.load reads as a dict of
// tensors, and loaded from files written by torch.save(model.state_dict()),
// torch.save({'state_dict': ...}) or torch::pickle_save.
//
//   SPAT_RETURN_IF_ERROR(SaveCheckpoint(*model, "run/checkpoint.pt"));
//   SPAT_RETURN_IF_ERROR(LoadCheckpoint("robustbench.pt", *model));
#ifndef SPAT_MODELS_CHECKPOINT_H_
#define SPAT_MODELS_CHECKPOINT_H_

#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace spat::models {

// Ordered (key, tensor) pairs, as in PyTorch's state_dict().
using StateDict = std::vector<std::pair<std::string, at::Tensor>>;

// The module's parameters and buffers with PyTorch's key names and order
// (own parameters, own buffers, then children recursively). Tensors alias the
// module's.
StateDict GetStateDict(const torch::nn::Module& module);

// Serializes to the torch.save zip format (bytes).
std::string SerializeStateDict(const StateDict& state);

// Writes atomically: a temporary file in the same directory, fsync, rename.
// On failure the previous file at `path` is left intact.
absl::Status SaveStateDict(const StateDict& state, const std::string& path);

// Parses torch.save / pickle_save bytes. Accepts a dict of tensors, or a dict
// holding one under 'state_dict', 'model', 'model_state_dict' or 'net'; a
// common 'module.' prefix (DataParallel) is stripped. `name` labels errors.
absl::StatusOr<StateDict> ParseStateDict(const std::string& bytes,
                                         const std::string& name);

absl::StatusOr<StateDict> LoadStateDict(const std::string& path);

// Copies `state` into `module`. Every parameter and buffer must be present
// with the same shape (dtypes are converted); keys the module lacks are an
// error unless they start with one of `ignored_prefixes`. Errors list the
// missing/unexpected keys and the mismatched shapes; `name` labels them.
absl::Status ApplyStateDict(const StateDict& state, torch::nn::Module& module,
                            const std::vector<std::string>& ignored_prefixes,
                            const std::string& name);

// SaveStateDict(GetStateDict(module), path).
absl::Status SaveCheckpoint(const torch::nn::Module& module,
                            const std::string& path);

// LoadStateDict + ApplyStateDict.
absl::Status LoadCheckpoint(const std::string& path, torch::nn::Module& module,
                            const std::vector<std::string>& ignored_prefixes = {});

}  // namespace spat::models

#endif  // SPAT_MODELS_CHECKPOINT_H_
