#include "spat/distributed.h"

// SPAT_WITH_GLOO: Gloo's headers were found at build time (torch's own
// USE_C10D_GLOO comes with every LibTorch's CMake target, headers or not).
// The torch Python package ships none, so a CMake build against it has NCCL
// (CUDA) but no Gloo (CPU) collectives.
#if SPAT_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#if SPAT_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace spat {
namespace {

// Reads integer variable `name` into *out if set.
absl::Status IntFromEnv(const char* name, int* out) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return absl::OkStatus();
  if (!absl::SimpleAtoi(v, out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment variable ", name, "='", v, "' is not an integer"));
  }
  return absl::OkStatus();
}

// The first line of an exception's message (c10 appends a backtrace).
std::string FirstLine(const std::exception& e) {
  std::string m = e.what();
  const size_t nl = m.find('\n');
  return nl == std::string::npos ? m : m.substr(0, nl);
}

absl::Status CollectiveError(int rank, const char* what, const std::exception& e) {
  return absl::UnavailableError(absl::StrCat(
      "rank ", rank, ": ", what, " failed (another rank probably exited or stalled past "
      "the collective timeout): ", FirstLine(e)));
}

}  // namespace

absl::Status ValidateDistEnv(const DistEnv& env) {
  if (env.world_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("WORLD_SIZE=", env.world_size, " must be >= 1"));
  }
  if (env.rank < 0 || env.rank >= env.world_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RANK=", env.rank, " must be in [0, WORLD_SIZE=", env.world_size, ")"));
  }
  if (env.local_rank < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("LOCAL_RANK=", env.local_rank, " must be >= 0"));
  }
  if (env.master_port < 0 || env.master_port > 65535 ||
      (env.master_port == 0 && env.world_size > 1 && env.rank != 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MASTER_PORT=", env.master_port, " must be in [1, 65535]"));
  }
  if (env.world_size > 1 && env.master_addr.empty()) {
    return absl::InvalidArgumentError("MASTER_ADDR is empty");
  }
  return absl::OkStatus();
}

absl::StatusOr<DistEnv> DistEnvFromEnvironment() {
  DistEnv env;
  if (absl::Status s = IntFromEnv("WORLD_SIZE", &env.world_size); !s.ok()) return s;
  if (absl::Status s = IntFromEnv("RANK", &env.rank); !s.ok()) return s;
  if (absl::Status s = IntFromEnv("LOCAL_RANK", &env.local_rank); !s.ok()) return s;
  if (absl::Status s = IntFromEnv("MASTER_PORT", &env.master_port); !s.ok()) return s;
  if (const char* a = std::getenv("MASTER_ADDR"); a != nullptr && *a != '\0') {
    env.master_addr = a;
  }
  if (absl::Status s = ValidateDistEnv(env); !s.ok()) return s;
  return env;
}

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
#if SPAT_WITH_GLOO
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;  // CPU
#endif
#if SPAT_WITH_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;  // CUDA
#endif
  std::chrono::milliseconds timeout;
  c10::Device device = c10::Device(c10::kCPU);

  // f(group) on whichever group this is (both have the c10d collectives).
  template <typename F>
  void WithGroup([[maybe_unused]] F f) {
#if SPAT_WITH_NCCL
    if (nccl) {
      f(*nccl);
      return;
    }
#endif
#if SPAT_WITH_GLOO
    f(*gloo);
#else
    // Connect refuses a CPU group without Gloo; nothing else reaches here.
    throw std::logic_error("no process group");
#endif
  }

  // `t` on the group's device (itself if it is there already).
  at::Tensor OnDevice(const at::Tensor& t) const {
    return t.device() == device ? t : t.to(device).contiguous();
  }
};

Communicator::Communicator(int rank, int world_size, std::unique_ptr<Impl> impl)
    : rank_(rank), world_size_(world_size), impl_(std::move(impl)) {}

Communicator::~Communicator() = default;

int Communicator::port() const { return impl_->store->getPort(); }

absl::StatusOr<std::unique_ptr<Communicator>> Communicator::Connect(
    const DistEnv& env, std::chrono::milliseconds timeout, c10::Device device) {
  if (absl::Status s = ValidateDistEnv(env); !s.ok()) return s;
#if !SPAT_WITH_NCCL
  if (device.is_cuda()) {
    return absl::FailedPreconditionError(
        "data-parallel training on CUDA needs NCCL: build against a CUDA LibTorch with "
        "nccl.h found (--config=cuda or the CMake route; SPAT_WITH_NCCL); this binary was "
        "built without it");
  }
#endif
  if (device.is_cpu() && !HasGloo()) {
    return absl::FailedPreconditionError(
        "data-parallel training on the CPU needs Gloo, whose headers were not found when this "
        "binary was built (the torch Python package ships none; Debian's libgloo-dev has "
        "them): train on CUDA (NCCL), or build against Debian's LibTorch");
  }
  auto impl = std::make_unique<Impl>();
  impl->timeout = timeout;
  impl->device = device;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = env.world_size;
    so.waitWorkers = false;
    so.timeout = timeout;
    impl->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
#if SPAT_WITH_NCCL
    if (device.is_cuda()) {
      c10::cuda::set_device(device.index());  // NCCL's communicator binds this GPU
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      impl->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, env.rank,
                                                               env.world_size, options);
    }
#endif
#if SPAT_WITH_GLOO
    if (device.is_cpu()) {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      options->devices.push_back(
          c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr));
      options->threads = 1;
      impl->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, env.rank,
                                                               env.world_size, options);
    }
#endif
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "rank ", env.rank, " of ", env.world_size, ": rendezvous at ", env.master_addr, ":",
        env.master_port, " failed (are MASTER_ADDR/MASTER_PORT the same on every rank and "
        "reachable, and did every rank start within the timeout?): ", FirstLine(e)));
  }
  return std::unique_ptr<Communicator>(
      new Communicator(env.rank, env.world_size, std::move(impl)));
}

bool Communicator::HasGloo() {
#if SPAT_WITH_GLOO
  return true;
#else
  return false;
#endif
}

const char* Communicator::backend() const {
  return impl_->device.is_cuda() ? "nccl" : "gloo";
}

absl::Status Communicator::Broadcast(std::vector<at::Tensor>& tensors) {
  try {
    for (at::Tensor& t : tensors) {
      std::vector<at::Tensor> one{impl_->OnDevice(t)};
      c10d::BroadcastOptions o;
      o.rootRank = 0;
      o.timeout = impl_->timeout;
      impl_->WithGroup([&](auto& g) { g.broadcast(one, o)->wait(impl_->timeout); });
      if (!one[0].is_same(t)) t.copy_(one[0]);
    }
  } catch (const std::exception& e) {
    return CollectiveError(rank_, "broadcast", e);
  }
  return absl::OkStatus();
}

absl::Status Communicator::AllReduceSum(at::Tensor& t) {
  try {
    std::vector<at::Tensor> one{impl_->OnDevice(t)};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    o.timeout = impl_->timeout;
    impl_->WithGroup([&](auto& g) { g.allreduce(one, o)->wait(impl_->timeout); });
    if (!one[0].is_same(t)) t.copy_(one[0]);
  } catch (const std::exception& e) {
    return CollectiveError(rank_, "all-reduce", e);
  }
  return absl::OkStatus();
}

absl::Status Communicator::Barrier() {
  try {
    c10d::BarrierOptions o;
    o.timeout = impl_->timeout;
    impl_->WithGroup([&](auto& g) { g.barrier(o)->wait(impl_->timeout); });
  } catch (const std::exception& e) {
    return CollectiveError(rank_, "barrier", e);
  }
  return absl::OkStatus();
}

absl::Status BroadcastFromRankZero(Communicator& comm, const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> floats, others;
  for (const at::Tensor& t : tensors) {
    (t.is_floating_point() ? floats : others).push_back(t);
  }
  if (!floats.empty()) {
    std::vector<at::Tensor> parts;
    for (const at::Tensor& t : floats) parts.push_back(t.detach().reshape(-1).to(at::kFloat));
    std::vector<at::Tensor> flat{at::cat(parts)};
    if (absl::Status st = comm.Broadcast(flat); !st.ok()) return st;
    int64_t offset = 0;
    at::NoGradGuard no_grad;
    for (const at::Tensor& t : floats) {
      t.copy_(flat[0].narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
  for (const at::Tensor& t : others) {
    std::vector<at::Tensor> one{t.contiguous()};
    if (absl::Status st = comm.Broadcast(one); !st.ok()) return st;
    t.copy_(one[0]);
  }
  return absl::OkStatus();
}

absl::Status BroadcastValues(Communicator& comm, std::vector<double>* values) {
  std::vector<at::Tensor> one{at::tensor(*values, at::kDouble)};
  if (absl::Status st = comm.Broadcast(one); !st.ok()) return st;
  at::Tensor v = one[0].cpu();
  for (size_t i = 0; i < values->size(); ++i) (*values)[i] = v[i].item<double>();
  return absl::OkStatus();
}

absl::Status AverageGradients(Communicator& comm, const std::vector<at::Tensor>& params,
                              double* loss_sum, int64_t* n) {
  std::vector<at::Tensor> parts;
  parts.reserve(params.size() + 1);
  for (const at::Tensor& p : params) {
    const at::Tensor& g = p.grad();
    parts.push_back(g.defined() && *n > 0 ? g.reshape(-1) * static_cast<double>(*n)
                                          : at::zeros({p.numel()}, p.options()));
  }
  parts.push_back(at::tensor({static_cast<float>(*loss_sum), static_cast<float>(*n)})
                      .to(params.front().device()));
  at::Tensor flat = at::cat(parts);
  if (absl::Status st = comm.AllReduceSum(flat); !st.ok()) return st;
  const int64_t total = static_cast<int64_t>(std::llround(flat[-1].item<double>()));
  *loss_sum = flat[-2].item<double>();
  *n = total;
  int64_t offset = 0;
  at::NoGradGuard no_grad;
  for (at::Tensor p : params) {
    at::Tensor mean = flat.narrow(0, offset, p.numel()).view(p.sizes()) / static_cast<double>(total);
    if (p.grad().defined()) {
      p.mutable_grad().copy_(mean);
    } else {
      p.mutable_grad() = mean.clone();
    }
    offset += p.numel();
  }
  return absl::OkStatus();
}

}  // namespace spat
