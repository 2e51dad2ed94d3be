#include "data/idx.h"

#include <ATen/ATen.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "data/file_bytes.h"

namespace spat::data {
namespace {

constexpr uint32_t kLabelMagic = 0x00000801;
constexpr uint32_t kImageMagic = 0x00000803;

uint32_t BigEndian32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Checks the magic number and the header length; returns the dimensions.
absl::StatusOr<std::vector<int64_t>> ParseHeader(const std::string& path,
                                                 const std::string& bytes,
                                                 uint32_t magic,
                                                 const char* kind) {
  const size_t ndim = magic & 0xff;
  const size_t header = 4 + 4 * ndim;
  if (bytes.size() < 4) {
    return absl::DataLossError(absl::StrCat(
        path, ": truncated: ", bytes.size(), " bytes, shorter than the header"));
  }
  const uint32_t got = BigEndian32(bytes, 0);
  if (got != magic) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: bad magic number 0x%08x, expected 0x%08x for an IDX %s file", path,
        got, magic, kind));
  }
  if (bytes.size() < header) {
    return absl::DataLossError(absl::StrCat(path, ": truncated header: ",
                                            bytes.size(), " bytes, need ",
                                            header));
  }
  std::vector<int64_t> dims;
  int64_t count = 1;
  for (size_t i = 0; i < ndim; ++i) {
    const int64_t d = BigEndian32(bytes, 4 + 4 * i);
    if (d <= 0 || d > (int64_t{1} << 31)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": dimension ", i, " is ", d, ", expected a positive size"));
    }
    if (count > (int64_t{1} << 40) / d) {  // checked before multiplying: no overflow
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": header dimensions are implausibly large"));
    }
    count *= d;
    dims.push_back(d);
  }
  const int64_t expected = static_cast<int64_t>(header) + count;
  const int64_t actual = static_cast<int64_t>(bytes.size());
  if (actual < expected) {
    return absl::DataLossError(absl::StrCat(
        path, ": truncated: header promises ", count, " bytes of data (",
        expected, " in all), file holds ", actual));
  }
  if (actual > expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": dimension mismatch: header promises ", expected,
                     " bytes, file holds ", actual));
  }
  return dims;
}

}  // namespace

absl::StatusOr<at::Tensor> ReadIdxImages(const std::string& path) {
  SPAT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  return ParseIdxImages(bytes, path);
}

absl::StatusOr<at::Tensor> ReadIdxLabels(const std::string& path, int64_t num_classes) {
  SPAT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  return ParseIdxLabels(bytes, path, num_classes);
}

absl::StatusOr<at::Tensor> ParseIdxImages(const std::string& bytes, const std::string& path) {
  SPAT_ASSIGN_OR_RETURN(std::vector<int64_t> dims,
                        ParseHeader(path, bytes, kImageMagic, "image"));
  const int64_t n = dims[0], h = dims[1], w = dims[2];
  at::Tensor raw = at::empty({n, 1, h, w}, at::kByte);
  std::memcpy(raw.data_ptr<uint8_t>(), bytes.data() + 16,
              static_cast<size_t>(n * h * w));
  return raw.to(at::kFloat).div_(255.0);
}

absl::StatusOr<at::Tensor> ParseIdxLabels(const std::string& bytes, const std::string& path,
                                          int64_t num_classes) {
  SPAT_ASSIGN_OR_RETURN(std::vector<int64_t> dims,
                        ParseHeader(path, bytes, kLabelMagic, "label"));
  const int64_t n = dims[0];
  at::Tensor labels = at::empty({n}, at::kLong);
  int64_t* out = labels.data_ptr<int64_t>();
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data() + 8);
  for (int64_t i = 0; i < n; ++i) {
    if (in[i] >= num_classes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": label ", static_cast<int>(in[i]), " at index ",
                       i, " is out of range [0, ", num_classes, ")"));
    }
    out[i] = in[i];
  }
  return labels;
}

}  // namespace spat::data
