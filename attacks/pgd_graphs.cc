#include "attacks/pgd_graphs.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <utility>

#if SPAT_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace spat::attacks {

#if SPAT_WITH_CUDA

bool CudaGraphsCompiled() { return true; }

// The static inputs and output of one captured K-step PGD: replay reads
// x0, targets and (as the start) x_adv, and leaves x' in x_adv.
struct PgdGraphs::Graph {
  at::cuda::CUDAGraph graph;
  at::Tensor x0, targets, x_adv;
};

namespace {

// `to` waits for the work queued so far on `from`.
void StreamWaits(const c10::cuda::CUDAStream& to, const c10::cuda::CUDAStream& from) {
  at::cuda::CUDAEvent ready;
  ready.record(from);
  ready.block(to);
}

}  // namespace

#else  // !SPAT_WITH_CUDA

bool CudaGraphsCompiled() { return false; }

struct PgdGraphs::Graph {};

#endif  // SPAT_WITH_CUDA

PgdGraphs::PgdGraphs(bool enabled) : enabled_(enabled) {}

PgdGraphs::~PgdGraphs() = default;

at::Tensor PgdGraphs::Run([[maybe_unused]] const std::string& key, const ForwardFn& forward, const at::Tensor& x,
                          const at::Tensor& targets, const TargetLossFn& loss,
                          const PgdOptions& options, at::Generator gen) {
#if SPAT_WITH_CUDA
  if (enabled_ && x.is_cuda() && options.num_steps > 0) {
    TORCH_CHECK(targets.size(0) == x.size(0), "targets must have x's batch size ", x.size(0),
                ", got ", targets.sizes());
    const auto k = std::make_tuple(key, x.sizes().vec(), targets.sizes().vec(),
                                   static_cast<int>(targets.scalar_type()));
    at::Tensor start = PgdStart(x, options, gen);
    auto it = graphs_.find(k);
    if (it != graphs_.end()) {
      Graph& g = *it->second;
      at::NoGradGuard no_grad;
      g.x0.copy_(x, /*non_blocking=*/true);
      g.targets.copy_(targets, /*non_blocking=*/true);
      g.x_adv.copy_(start, /*non_blocking=*/true);
      g.graph.replay();
      ++replays_;
      return g.x_adv.clone();
    }
    // First call of this shape: the eager steps on a side stream are both
    // this call's answer and the warm-up that capture needs (cuDNN and
    // cuBLAS choose their algorithms and workspaces outside the capture).
    const c10::cuda::CUDAGuard device_guard(x.device());
    const c10::cuda::CUDAStream caller = c10::cuda::getCurrentCUDAStream();
    const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
    StreamWaits(side, caller);
    auto g = std::make_unique<Graph>();
    const AdvLossFn on_static = [&loss, &g](const at::Tensor& z) { return loss(z, g->targets); };
    {
      const c10::cuda::CUDAStreamGuard on_side(side);
      {
        at::NoGradGuard no_grad;
        g->x0 = x.detach().clone();
        g->targets = targets.detach().clone();
        g->x_adv = start.clone();
      }
      PgdSteps(forward, g->x0, g->x_adv, on_static, options);
    }
    StreamWaits(caller, side);
    at::Tensor result = g->x_adv.clone();  // on the caller's stream, which owns it
    {
      const c10::cuda::CUDAStreamGuard on_side(side);
      g->graph.capture_begin();
      PgdSteps(forward, g->x0, g->x_adv, on_static, options);
      g->graph.capture_end();
    }
    StreamWaits(caller, side);
    graphs_.emplace(k, std::move(g));
    ++captures_;
    return result;
  }
#endif
  return Pgd(forward, x, [&loss, &targets](const at::Tensor& z) { return loss(z, targets); },
             options, gen);
}

at::Tensor RunPgd(PgdGraphs* graphs, const std::string& key, const ForwardFn& forward,
                  const at::Tensor& x, const at::Tensor& targets, const TargetLossFn& loss,
                  const PgdOptions& options, at::Generator gen) {
  if (graphs != nullptr) return graphs->Run(key, forward, x, targets, loss, options, gen);
  return Pgd(forward, x, [&loss, &targets](const at::Tensor& z) { return loss(z, targets); },
             options, gen);
}

}  // namespace spat::attacks
