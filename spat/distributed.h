// Data-parallel training over torch's c10d: a TCPStore rendezvous and a Gloo
// process group (CPU) or an NCCL one (CUDA, each rank on its LOCAL_RANK GPU),
// configured the way torchrun configures its workers.
//
//   SPAT_ASSIGN_OR_RETURN(DistEnv env, DistEnvFromEnvironment());
//   std::unique_ptr<Communicator> comm;
//   if (env.world_size > 1) {
//     SPAT_ASSIGN_OR_RETURN(comm, Communicator::Connect(env, std::chrono::minutes(30)));
//   }
//   SPAT_RETURN_IF_ERROR(comm->Broadcast(params));     // from rank 0
//   SPAT_RETURN_IF_ERROR(comm->AllReduceSum(flat));    // in place
//
// Every collective waits at most the timeout given to Connect; a peer that
// died (its sockets close) or stalls makes the call return an error on the
// other ranks instead of hanging. c10d headers are kept out of this header.
#ifndef SPAT_SPAT_DISTRIBUTED_H_
#define SPAT_SPAT_DISTRIBUTED_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "absl/status/statusor.h"

namespace spat {

// torchrun's variables: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT.
struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

// Reads the variables above; absent ones keep their defaults (one process).
// InvalidArgument naming the variable when one is malformed or inconsistent
// (RANK >= WORLD_SIZE, a port outside 1..65535, ...).
absl::StatusOr<DistEnv> DistEnvFromEnvironment();

// The same checks on an explicit value.
absl::Status ValidateDistEnv(const DistEnv& env);

class Communicator {
 public:
  // Rendezvous at MASTER_ADDR:MASTER_PORT (rank 0 hosts the store; a port of
  // 0 on rank 0 picks a free one, see port()) and a group over it: Gloo for
  // a CPU `device` (a binary with HasGloo()), NCCL for a CUDA one (a binary
  // built with SPAT_WITH_NCCL, i.e. a CUDA LibTorch and nccl.h); otherwise
  // FailedPrecondition. Tensors handed to the collectives may live anywhere;
  // they travel through `device`.
  static absl::StatusOr<std::unique_ptr<Communicator>> Connect(
      const DistEnv& env, std::chrono::milliseconds timeout,
      c10::Device device = c10::Device(c10::kCPU));
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  // The store's port (the one chosen when rank 0 asked for port 0).
  int port() const;

  // "gloo" or "nccl".
  const char* backend() const;

  // Whether this binary has CPU (Gloo) collectives: Gloo's headers were found
  // when it was built (always under Bazel; the CMake build against the torch
  // Python package, which ships none, has NCCL only).
  static bool HasGloo();

  // Overwrites each tensor (contiguous) with rank 0's values.
  absl::Status Broadcast(std::vector<at::Tensor>& tensors);
  // Sums `t` (contiguous) over the ranks, in place.
  absl::Status AllReduceSum(at::Tensor& t);
  absl::Status Barrier();

 private:
  struct Impl;
  Communicator(int rank, int world_size, std::unique_ptr<Impl> impl);
  int rank_;
  int world_size_;
  std::unique_ptr<Impl> impl_;
};

// The collectives of data-parallel training, built on a Communicator.

// Overwrites every rank's copy of `tensors` with rank 0's: floating tensors in
// one broadcast of a flat buffer, others one by one.
absl::Status BroadcastFromRankZero(Communicator& comm, const std::vector<at::Tensor>& tensors);

// Overwrites every rank's `values` with rank 0's (double precision).
absl::Status BroadcastValues(Communicator& comm, std::vector<double>* values);

// Replaces every parameter's gradient (a mean over this rank's `*n`
// examples) by the mean over the global batch, *loss_sum (this rank's sum of
// per-example losses) by the global sum and *n by the global count. One
// all-reduce.
absl::Status AverageGradients(Communicator& comm, const std::vector<at::Tensor>& params,
                              double* loss_sum, int64_t* n);

}  // namespace spat

#endif  // SPAT_SPAT_DISTRIBUTED_H_
