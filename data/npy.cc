#include "data/npy.h"

#include <ATen/ATen.h>

#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "data/file_bytes.h"

namespace spat::data {
namespace {

// Returns the value text that follows `'key':` in the header dict.
absl::StatusOr<absl::string_view> HeaderValue(absl::string_view header,
                                              absl::string_view key,
                                              const std::string& name) {
  const std::string quoted = absl::StrCat("'", key, "'");
  size_t pos = header.find(quoted);
  if (pos == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": .npy header has no '", key, "' entry"));
  }
  pos = header.find(':', pos + quoted.size());
  if (pos == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": malformed .npy header"));
  }
  return absl::StripLeadingAsciiWhitespace(header.substr(pos + 1));
}

absl::StatusOr<at::ScalarType> DtypeFromDescr(absl::string_view descr,
                                              const std::string& name) {
  if (descr.size() < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": unsupported .npy dtype '", descr, "'"));
  }
  const char order = descr[0];
  const absl::string_view kind = descr.substr(1);
  if (order == '>' && kind != "u1" && kind != "i1" && kind != "b1") {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": big-endian .npy dtype '", descr, "' is not supported"));
  }
  if (kind == "u1") return at::kByte;
  if (kind == "i1") return at::kChar;
  if (kind == "b1") return at::kBool;
  if (kind == "i2") return at::kShort;
  if (kind == "i4") return at::kInt;
  if (kind == "i8") return at::kLong;
  if (kind == "f2") return at::kHalf;
  if (kind == "f4") return at::kFloat;
  if (kind == "f8") return at::kDouble;
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": unsupported .npy dtype '", descr, "'"));
}

}  // namespace

namespace {

// Where the header's dict is: after the magic, the version and its length.
struct HeaderSpan {
  size_t offset = 0;
  size_t length = 0;
};

absl::StatusOr<HeaderSpan> FindHeader(const std::string& bytes, const std::string& name) {
  static constexpr char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": bad magic, not a .npy file"));
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  HeaderSpan h;
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  if (major == 1) {
    h.length = u[8] | (u[9] << 8);
    h.offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) {
      return absl::DataLossError(absl::StrCat(name, ": truncated .npy header"));
    }
    h.length = u[8] | (u[9] << 8) | (size_t{u[10]} << 16) | (size_t{u[11]} << 24);
    h.offset = 12;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": unsupported .npy format version ", major));
  }
  if (bytes.size() < h.offset + h.length) {
    return absl::DataLossError(absl::StrCat(name, ": truncated .npy header"));
  }
  return h;
}

// The header's 'descr' as a dtype; refuses Fortran order.
absl::StatusOr<at::ScalarType> HeaderDtype(absl::string_view header, const std::string& name) {
  SPAT_ASSIGN_OR_RETURN(absl::string_view descr_v, HeaderValue(header, "descr", name));
  if (descr_v.empty() || (descr_v[0] != '\'' && descr_v[0] != '"')) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": .npy 'descr' is not a simple dtype string"));
  }
  const size_t end = descr_v.find(descr_v[0], 1);
  if (end == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": malformed descr"));
  }
  SPAT_ASSIGN_OR_RETURN(at::ScalarType dtype, DtypeFromDescr(descr_v.substr(1, end - 1), name));
  SPAT_ASSIGN_OR_RETURN(absl::string_view fortran_v, HeaderValue(header, "fortran_order", name));
  if (absl::StartsWith(fortran_v, "True")) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": Fortran-ordered .npy arrays are not supported"));
  }
  return dtype;
}

// The header's 'shape' tuple; *count is the product of its entries.
absl::StatusOr<std::vector<int64_t>> HeaderShape(absl::string_view header,
                                                 const std::string& name, int64_t* count) {
  SPAT_ASSIGN_OR_RETURN(absl::string_view shape_v, HeaderValue(header, "shape", name));
  const size_t open = shape_v.find('(');
  const size_t close = shape_v.find(')');
  if (open != 0 || close == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": malformed .npy shape"));
  }
  std::vector<int64_t> shape;
  *count = 1;
  for (absl::string_view part :
       absl::StrSplit(shape_v.substr(1, close - 1), ',', absl::SkipWhitespace())) {
    int64_t d = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &d) || d < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": bad .npy shape entry '", part, "'"));
    }
    // Checked before multiplying (found by fuzzing: the product overflowed).
    constexpr int64_t kMax = int64_t{1} << 40;
    if (d > kMax || (d > 0 && *count > kMax / d)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": .npy shape is implausibly large"));
    }
    shape.push_back(d);
    *count *= d;
  }
  return shape;
}

}  // namespace

absl::StatusOr<at::Tensor> ParseNpy(const std::string& bytes,
                                    const std::string& name) {
  SPAT_ASSIGN_OR_RETURN(const HeaderSpan span, FindHeader(bytes, name));
  const absl::string_view header(bytes.data() + span.offset, span.length);
  SPAT_ASSIGN_OR_RETURN(at::ScalarType dtype, HeaderDtype(header, name));
  int64_t count = 0;
  SPAT_ASSIGN_OR_RETURN(std::vector<int64_t> shape, HeaderShape(header, name, &count));
  const size_t elem = c10::elementSize(dtype);
  const size_t data_bytes = static_cast<size_t>(count) * elem;
  const size_t start = span.offset + span.length;
  const size_t available = bytes.size() - start;
  if (available != data_bytes) {
    return absl::DataLossError(absl::StrCat(
        name, ": shape ", c10::str(c10::IntArrayRef(shape)), " needs ",
        data_bytes, " data bytes, file holds ", available,
        available < data_bytes ? " (truncated)" : ""));
  }
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (data_bytes > 0) std::memcpy(t.data_ptr(), bytes.data() + start, data_bytes);
  return t;
}

absl::StatusOr<at::Tensor> ReadNpy(const std::string& path) {
  SPAT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  return ParseNpy(bytes, path);
}

}  // namespace spat::data
