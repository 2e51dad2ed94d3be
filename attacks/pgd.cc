#include "attacks/pgd.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <exception>
#include <fstream>
#include <string>

#include "base/device.h"
#include "base/torch_compat.h"

namespace spat::attacks {
namespace {

// Per-example lp norm, shaped [B, 1, ..., 1] for broadcasting.
at::Tensor PerExampleNorm(const at::Tensor& t, double p) {
  std::vector<int64_t> shape(t.dim(), 1);
  shape[0] = t.size(0);
  return t.flatten(1).norm(p, /*dim=*/1).clamp_min(1e-12).view(shape);
}

at::Tensor L2Norm(const at::Tensor& t) { return PerExampleNorm(t, 2); }

// What Pgd and PgdSteps refuse: before any random draw or step.
void CheckPgdOptions(const at::Tensor& x, const PgdOptions& options) {
  TORCH_CHECK(x.dim() >= 2, "x must be batched, got ", x.sizes());
  TORCH_CHECK(options.epsilon > 0 && options.step_size > 0 && options.num_steps >= 0,
              "PGD needs epsilon > 0, step_size > 0, num_steps >= 0");
  TORCH_CHECK(!options.bf16 || !x.is_cpu() || CpuBf16Supported(), "PGD with bf16: ",
              kNoCpuBf16);
}

}  // namespace

bool CpuBf16Supported() {
  static const bool supported = [] {
    try {
      at::NoGradGuard no_grad;
      compat::ScopedAutocast autocast(at::kCPU, at::kBFloat16);
      at::Tensor x = at::ones({1, 1, 4, 4});
      at::Tensor conv = at::conv2d(x, at::ones({2, 1, 3, 3}));
      at::Tensor lin = at::linear(conv.flatten(1), at::ones({3, 8}));
      return lin.scalar_type() == at::kBFloat16 && lin.isfinite().all().item<bool>();
    } catch (const std::exception&) {  // c10::Error, or oneDNN's own dnnl::error
      return false;
    }
  }();
  return supported;
}

bool CpuHasNativeBf16() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("flags", 0) == 0) {
      return line.find("avx512_bf16") != std::string::npos ||
             line.find("amx_bf16") != std::string::npos;
    }
  }
  return false;
}

at::Tensor InputGradient(const at::Tensor& loss, const at::Tensor& leaf) {
  if (!loss.requires_grad()) return at::zeros_like(leaf);
  at::Tensor g = torch::autograd::grad({loss}, {leaf}, /*grad_outputs=*/{},
                                       /*retain_graph=*/false, /*create_graph=*/false,
                                       /*allow_unused=*/true)[0];
  return g.defined() ? g.detach() : at::zeros_like(leaf);
}

namespace {

// x_adv moved into the eps-ball around x (not into [0, 1]).
at::Tensor IntoBall(const at::Tensor& x_adv, const at::Tensor& x, double eps, Norm norm) {
  at::NoGradGuard no_grad;
  at::Tensor delta = x_adv - x;
  if (norm == Norm::kLinf) {
    delta.clamp_(-eps, eps);
  } else {
    delta.mul_(at::clamp_max(eps / L2Norm(delta), 1.0));
  }
  return x + delta;
}

}  // namespace

at::Tensor Project(const at::Tensor& x_adv, const at::Tensor& x, double eps,
                   Norm norm) {
  return IntoBall(x_adv, x, eps, norm).clamp_(0.0, 1.0);
}

at::Tensor PgdStart(const at::Tensor& x, const PgdOptions& options, at::Generator gen) {
  TORCH_CHECK(x.dim() >= 2, "x must be batched, got ", x.sizes());
  TORCH_CHECK(options.epsilon > 0, "PGD needs epsilon > 0, got ", options.epsilon);
  const double eps = options.epsilon;
  at::NoGradGuard no_grad;
  const at::Tensor x0 = x.detach();
  if (options.init.defined()) {
    TORCH_CHECK(options.init.sizes() == x0.sizes(), "PGD init must have x's shape ",
                x0.sizes(), ", got ", options.init.sizes());
    return Project(options.init.detach().to(x0.options()), x0, eps, options.norm);
  }
  // Drawn on the host from the CPU generator: the same start on every device.
  const at::TensorOptions host = HostOptions(x0);
  at::Tensor x_adv;
  switch (options.start) {
    case StartMode::kNone:
      x_adv = x0.clone();
      break;
    case StartMode::kGaussian:
      x_adv = x0 + options.start_std * at::randn(x0.sizes(), gen, host).to(x0.device());
      break;
    case StartMode::kUniform:
      if (options.norm == Norm::kLinf) {
        x_adv = x0 + at::empty_like(x0, host).uniform_(-eps, eps, gen).to(x0.device());
      } else {
        at::Tensor d = at::randn(x0.sizes(), gen, host).to(x0.device());
        at::Tensor r = at::rand({x0.size(0)}, gen, host).to(x0.device());
        std::vector<int64_t> shape(x0.dim(), 1);
        shape[0] = x0.size(0);
        x_adv = x0 + d / L2Norm(d) * (eps * r.view(shape));
      }
      break;
  }
  return options.clamp_start ? Project(x_adv, x0, eps, options.norm)
                             : IntoBall(x_adv, x0, eps, options.norm);
}

void PgdSteps(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& x_adv,
              const AdvLossFn& loss, const PgdOptions& options, const StepObserver& observer) {
  CheckPgdOptions(x, options);
  TORCH_CHECK(x_adv.sizes() == x.sizes(), "x_adv must have x's shape ", x.sizes(), ", got ",
              x_adv.sizes());
  const double eps = options.epsilon;
  const at::Tensor x0 = x.detach();
  at::Tensor velocity, lo, hi;
  if (options.norm == Norm::kLinf) {
    at::NoGradGuard no_grad;
    // The l-inf ball intersected with the [0, 1] box.
    lo = (x0 - eps).clamp_min_(0.0);
    hi = (x0 + eps).clamp_max_(1.0);
  }
  for (int step = 0; step < options.num_steps; ++step) {
    at::Tensor xa = x_adv.detach().requires_grad_(true);
    at::Tensor grad;
    {
      RECORD_USER_SCOPE("spat.attack");
      at::AutoGradMode enable(true);
      at::Tensor logits;
      if (options.bf16) {
        compat::ScopedAutocast autocast(x0.device().type(), at::kBFloat16);
        logits = forward(xa).to(at::kFloat);
      } else {
        logits = forward(xa);
      }
      if (observer) observer(step, logits.detach());
      grad = InputGradient(loss(logits).sum(), xa);
    }
    at::NoGradGuard no_grad;
    RECORD_USER_SCOPE("spat.attack_step");  // step and projection
    if (options.momentum > 0) {
      // MIM: accumulate l1-normalized gradients.
      at::Tensor g = grad / PerExampleNorm(grad, 1);
      velocity = velocity.defined() ? velocity.mul_(options.momentum).add_(g) : g;
      grad = velocity;
    }
    // In place, so that x_adv stays the same storage (a CUDA graph's output).
    if (options.norm == Norm::kLinf) {
      // x' <- clamp(x' + a * sign(g), lo, hi). (Not grad.sign_(): autograd
      // may hand back an expanded tensor, and MIM's grad is its velocity,
      // which must survive the step.)
      x_adv.add_(grad.sign(), options.step_size);
      x_adv.clamp_(lo, hi);
    } else {
      x_adv.copy_(Project(x_adv + options.step_size * (grad / L2Norm(grad)), x0, eps,
                          options.norm));
    }
  }
}

at::Tensor Pgd(const ForwardFn& forward, const at::Tensor& x,
               const AdvLossFn& loss, const PgdOptions& options,
               at::Generator gen, const StepObserver& observer) {
  CheckPgdOptions(x, options);
  at::Tensor x_adv = PgdStart(x, options, gen);
  PgdSteps(forward, x, x_adv, loss, options, observer);
  return x_adv.detach();
}

}  // namespace spat::attacks
