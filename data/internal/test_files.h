// Test helpers: write small dataset files in each on-disk format (IDX raw and
// gzip, CIFAR-10 binary, .npy) into the test's temporary directory.
#ifndef SPAT_DATA_INTERNAL_TEST_FILES_H_
#define SPAT_DATA_INTERNAL_TEST_FILES_H_

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace spat::data::testing {

inline std::string TempDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d != nullptr ? d : "/tmp";
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void WriteGzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

inline void AppendBigEndian32(std::string* s, uint32_t v) {
  s->push_back(static_cast<char>(v >> 24));
  s->push_back(static_cast<char>(v >> 16));
  s->push_back(static_cast<char>(v >> 8));
  s->push_back(static_cast<char>(v));
}

// IDX images: magic 0x803, n x h x w bytes.
inline std::string IdxImages(const std::vector<uint8_t>& pixels, uint32_t n,
                             uint32_t h, uint32_t w) {
  std::string s;
  AppendBigEndian32(&s, 0x00000803);
  AppendBigEndian32(&s, n);
  AppendBigEndian32(&s, h);
  AppendBigEndian32(&s, w);
  s.append(pixels.begin(), pixels.end());
  return s;
}

// IDX labels: magic 0x801, n bytes.
inline std::string IdxLabels(const std::vector<uint8_t>& labels) {
  std::string s;
  AppendBigEndian32(&s, 0x00000801);
  AppendBigEndian32(&s, static_cast<uint32_t>(labels.size()));
  s.append(labels.begin(), labels.end());
  return s;
}

// CIFAR-10 binary records: label byte, then 3072 pixel bytes; pixel p of
// record i is (i * 7 + p) % 256.
inline std::string CifarRecords(const std::vector<uint8_t>& labels) {
  std::string s;
  for (size_t i = 0; i < labels.size(); ++i) {
    s.push_back(static_cast<char>(labels[i]));
    for (int p = 0; p < 3072; ++p) {
      s.push_back(static_cast<char>((i * 7 + static_cast<size_t>(p)) % 256));
    }
  }
  return s;
}

// A version-1.0 .npy image: header dict padded to a multiple of 64 bytes.
inline std::string Npy(const std::string& descr, const std::string& shape,
                       const std::string& data, bool fortran = false) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " +
                       (fortran ? "True" : "False") + ", 'shape': " + shape +
                       ", }";
  while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::string s = "\x93NUMPY";
  s.push_back('\x01');
  s.push_back('\x00');
  s.push_back(static_cast<char>(header.size() & 0xff));
  s.push_back(static_cast<char>(header.size() >> 8));
  return s + header + data;
}

}  // namespace spat::data::testing

#endif  // SPAT_DATA_INTERNAL_TEST_FILES_H_
