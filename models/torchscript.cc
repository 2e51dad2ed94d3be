#include "models/torchscript.h"

#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/script.h>

#include <fstream>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace spat::models {
namespace {

// The first line of a c10::Error (the rest is its C++ backtrace).
std::string FirstLine(const std::string& what) { return what.substr(0, what.find('\n')); }

absl::Status NotLoadable(const std::string& path, const std::string& what) {
  const std::string why = FirstLine(what);
  if (absl::StrContains(what, "version") &&
      (absl::StrContains(what, "supported version") || absl::StrContains(what, "too old") ||
       absl::StrContains(what, "newer"))) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": saved by a newer torch than the LibTorch ", TORCH_VERSION,
        " this build uses (", why,
        "); save it with torch ", TORCH_VERSION_MAJOR, ".", TORCH_VERSION_MINOR,
        " (tools/export_torchscript.py) or build against a newer LibTorch (CMake, "
        "docs/gpu_and_libtorch.md)"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": not a TorchScript module this LibTorch (", TORCH_VERSION, ") can load (", why,
      "); --torchscript takes torch.jit.save of a scripted or traced module; a state dict "
      "(torch.save) of one of our architectures takes --model and --checkpoint"));
}

// The module's output on `x`, which must be one tensor [B, classes >= 2].
absl::StatusOr<at::Tensor> Logits(torch::jit::Module& m, const at::Tensor& x,
                                  const std::string& path) {
  c10::IValue out;
  try {
    out = m.forward({x});
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": forward failed on images of shape [", x.size(0), ", ", x.size(1), ", ",
        x.size(2), ", ", x.size(3), "] in [0, 1]: ", FirstLine(e.what())));
  }
  if (!out.isTensor()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": forward returns ", out.tagKind(), ", not a tensor of logits [B, classes]"));
  }
  at::Tensor t = out.toTensor();
  if (t.dim() != 2 || t.size(0) != x.size(0) || t.size(1) < 2 || !t.is_floating_point()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": forward on ", x.size(0), " images returns shape ", c10::str(t.sizes()), " (",
        c10::toString(t.scalar_type()), "), not logits [", x.size(0),
        ", classes] with classes >= 2"));
  }
  return t;
}

}  // namespace

absl::StatusOr<TorchScriptModel> LoadTorchScript(const std::string& path,
                                                 const at::Tensor& probe, c10::Device device) {
  if (!std::ifstream(path).good()) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file (--torchscript)"));
  }
  auto module = std::make_shared<torch::jit::Module>();
  try {
    *module = torch::jit::load(path, device);
  } catch (const std::exception& e) {
    return NotLoadable(path, e.what());
  }
  module->eval();
  const at::Tensor x =
      probe.narrow(0, 0, std::min<int64_t>(2, probe.size(0))).to(device).clone().requires_grad_();
  at::Tensor logits;
  {
    absl::StatusOr<at::Tensor> l = Logits(*module, x, path);
    if (!l.ok()) return l.status();
    logits = *l;
  }
  if (!logits.requires_grad()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": its output is not differentiable with respect to its input (no gradient "
              "reaches the images: detached, or computed without autograd); gradient attacks "
              "need one"));
  }
  TorchScriptModel m;
  m.num_classes = logits.size(1);
  const at::Tensor grad = torch::autograd::grad({logits.sum()}, {x}, {}, false, false, true)[0];
  if (!grad.defined() || !grad.isfinite().all().item<bool>()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": the gradient of its output with respect to its input is ",
        grad.defined() ? "not finite" : "undefined", "; gradient attacks need one"));
  }
  if (grad.abs().max().item<double>() == 0) {
    m.warning = absl::StrCat(path, ": the input gradient is zero everywhere on the probe images "
                                   "(a sign of gradient masking; trust black-box attacks more)");
  }
  const std::string name = path;
  m.forward = [module, name](const at::Tensor& t) {
    c10::IValue out = module->forward({t});
    return out.toTensor();
  };
  return m;
}

}  // namespace spat::models
