// Small layer factories shared by the model definitions.
#ifndef SPAT_MODELS_INTERNAL_LAYERS_H_
#define SPAT_MODELS_INTERNAL_LAYERS_H_

#include <torch/nn/modules/conv.h>

namespace spat::models::internal {

// k x k convolution, "same" padding (k / 2), no bias, as the reference ResNet
// and WideResNet definitions use.
inline torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t k, int64_t stride) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false));
}

}  // namespace spat::models::internal

#endif  // SPAT_MODELS_INTERNAL_LAYERS_H_
