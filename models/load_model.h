// Builds a model and loads a checkpoint into it, taking the head type from the
// checkpoint itself: a 0-dim `<head>.s` buffer means the NCE head with that s.
//
//   auto model = LoadModel("run/checkpoint.pt", {.name = "small_cnn"});
#ifndef SPAT_MODELS_LOAD_MODEL_H_
#define SPAT_MODELS_LOAD_MODEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "models/classifier.h"
#include "models/registry.h"

namespace spat::models {

// `spec.head` is overridden by what the checkpoint holds. The model is
// returned in eval mode.
absl::StatusOr<std::shared_ptr<Classifier>> LoadModel(const std::string& path,
                                                      ModelSpec spec);

}  // namespace spat::models

#endif  // SPAT_MODELS_LOAD_MODEL_H_
