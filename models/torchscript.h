// A TorchScript module (torch.jit.script or torch.jit.trace, then
// torch.jit.save) as the attacks call a model: images [B, C, H, W] in [0, 1]
// to logits [B, classes], differentiable with respect to the images. Any
// normalization lives inside the module.
//
//   SPAT_ASSIGN_OR_RETURN(TorchScriptModel m, LoadTorchScript("mlp.pt", probe, device));
//   at::Tensor logits = m.forward(x);   // what attacks::ForwardFn expects
#ifndef SPAT_MODELS_TORCHSCRIPT_H_
#define SPAT_MODELS_TORCHSCRIPT_H_

#include <cstdint>
#include <functional>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "absl/status/statusor.h"

namespace spat::models {

struct TorchScriptModel {
  // Logits [B, num_classes] of images [B, C, H, W] (in eval mode, on the
  // device it was loaded to).
  std::function<at::Tensor(const at::Tensor&)> forward;
  int64_t num_classes = 0;
  // Set when the probe found the input gradient zero everywhere (a sign of
  // gradient masking: gradient attacks will find nothing to climb).
  std::string warning;
};

// Loads `path` onto `device` and checks it on the first images of `probe`
// ([N, C, H, W] in [0, 1], N >= 1): that it is a TorchScript module this
// LibTorch can read, that its output is [B, classes] with classes >= 2, and
// that a gradient reaches its input. Each failure is an error naming the
// file and what was wrong: NotFound (no file), InvalidArgument (not a
// TorchScript module, saved by a newer torch, wrong output, not
// differentiable).
absl::StatusOr<TorchScriptModel> LoadTorchScript(const std::string& path,
                                                 const at::Tensor& probe, c10::Device device);

}  // namespace spat::models

#endif  // SPAT_MODELS_TORCHSCRIPT_H_
