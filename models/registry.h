// Builds a model from its name: small_cnn, lenet5, resnet18, resnet34,
// resnet50, resnet101, wrn34_10 (each with a linear or NCE head).
//
//   absl::StatusOr<std::shared_ptr<Classifier>> m =
//       CreateModel({.name = "resnet18", .in_channels = 3, .image_size = 32});
#ifndef SPAT_MODELS_REGISTRY_H_
#define SPAT_MODELS_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/classifier.h"

namespace spat::models {

// How the layers start. kReference: the reference scripts' initialization
// where they have one (SmallCNN: Kaiming-normal convolutions, zero biases, a
// zero linear output layer, as TRADES/MART/SPAT; WideResNet: normal(0,
// sqrt(2/fan_out)) convolutions, zero head bias); kTorchDefault: PyTorch's
// layer defaults (Kaiming-uniform, a = sqrt(5)). LeNet-5 and the ResNets have
// only PyTorch's defaults: both are the same there.
enum class InitScheme { kReference, kTorchDefault };

struct ModelSpec {
  std::string name;
  int64_t num_classes = 10;
  int64_t in_channels = 1;
  int64_t image_size = 28;
  HeadOptions head = {};
  InitScheme init = InitScheme::kReference;
};

// The names CreateModel accepts.
const std::vector<std::string>& KnownModels();

// An unknown name, or a model that cannot take the given input geometry, is
// an InvalidArgument error naming the model and the allowed values.
absl::StatusOr<std::shared_ptr<Classifier>> CreateModel(const ModelSpec& spec);

// Converts every 4-D parameter and buffer (conv weights) to the NHWC
// (channels-last) memory format in place; values and names are unchanged.
void ToChannelsLast(torch::nn::Module& module);

}  // namespace spat::models

#endif  // SPAT_MODELS_REGISTRY_H_
