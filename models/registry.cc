#include "models/registry.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/lenet.h"
#include "models/resnet.h"
#include "models/small_cnn.h"
#include "models/wide_resnet.h"

namespace spat::models {

const std::vector<std::string>& KnownModels() {
  static const auto* names = new std::vector<std::string>{
      "small_cnn", "lenet5",    "resnet18", "resnet34",
      "resnet50",  "resnet101", "wrn34_10"};
  return *names;
}

absl::StatusOr<std::shared_ptr<Classifier>> CreateModel(const ModelSpec& spec) {
  if (spec.num_classes < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_classes must be >= 2, got ", spec.num_classes));
  }
  if (spec.in_channels < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("in_channels must be >= 1, got ", spec.in_channels));
  }
  if (spec.head.type == HeadType::kNce && !(spec.head.s > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("NCE head scale s must be > 0, got ", spec.head.s));
  }
  if (spec.name == "small_cnn") {
    if (spec.image_size < 16) {
      return absl::InvalidArgumentError(absl::StrCat(
          "small_cnn needs images of at least 16x16, got ", spec.image_size));
    }
    return std::shared_ptr<Classifier>(
        SmallCNN(SmallCnnOptions{spec.in_channels, spec.image_size, spec.num_classes, 0.5,
                                 spec.head, spec.init == InitScheme::kReference})
            .ptr());
  }
  if (spec.name == "lenet5") {
    if (spec.image_size != 28 && spec.image_size != 32) {
      return absl::InvalidArgumentError(absl::StrCat(
          "lenet5 takes 28x28 or 32x32 images, got ", spec.image_size));
    }
    return std::shared_ptr<Classifier>(
        LeNet5(LeNetOptions{spec.in_channels, spec.image_size,
                            spec.num_classes, spec.head})
            .ptr());
  }
  if (spec.name == "wrn34_10") {
    WideResNetOptions o;
    o.in_channels = spec.in_channels;
    o.num_classes = spec.num_classes;
    o.head = spec.head;
    o.reference_init = spec.init == InitScheme::kReference;
    return std::shared_ptr<Classifier>(WideResNet(o).ptr());
  }
  ResNetOptions o;
  if (spec.name == "resnet18") {
    o = ResNetOptions::ResNet18();
  } else if (spec.name == "resnet34") {
    o = ResNetOptions::ResNet34();
  } else if (spec.name == "resnet50") {
    o = ResNetOptions::ResNet50();
  } else if (spec.name == "resnet101") {
    o = ResNetOptions::ResNet101();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown model '", spec.name, "'; known: ",
                     absl::StrJoin(KnownModels(), ", ")));
  }
  o.in_channels = spec.in_channels;
  o.num_classes = spec.num_classes;
  o.head = spec.head;
  return std::shared_ptr<Classifier>(ResNet(o).ptr());
}

void ToChannelsLast(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (at::Tensor& p : module.parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  }
  for (at::Tensor& b : module.buffers()) {
    if (b.dim() == 4) b.set_data(b.contiguous(at::MemoryFormat::ChannelsLast));
  }
}

}  // namespace spat::models
