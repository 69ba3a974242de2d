// A PE32+ image read whole, parsed by hand: what the driver tests check in the built .sys.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace procsentry::test {

class PeImage {
 public:
  explicit PeImage(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    bytes_.assign(std::istreambuf_iterator<char>(in), {});
  }
  bool empty() const { return bytes_.empty(); }
  template <typename T>
  T at(std::size_t offset) const {
    T value{};
    if (offset + sizeof(T) <= bytes_.size()) std::memcpy(&value, bytes_.data() + offset, sizeof(T));
    return value;
  }
  std::string string_at(std::size_t offset) const {
    std::string s;
    while (offset < bytes_.size() && bytes_[offset] != '\0') s += bytes_[offset++];
    return s;
  }
  std::size_t pe() const { return at<std::uint32_t>(0x3c); }
  std::size_t optional_header() const { return pe() + 24; }
  std::uint16_t section_count() const { return at<std::uint16_t>(pe() + 6); }
  std::size_t sections() const { return optional_header() + at<std::uint16_t>(pe() + 20); }
  // File offset of a relative virtual address.
  std::size_t file_offset(std::uint32_t rva) const {
    for (std::uint16_t i = 0; i < section_count(); ++i) {
      std::size_t s = sections() + 40u * i;
      auto va = at<std::uint32_t>(s + 12);
      auto size = std::max(at<std::uint32_t>(s + 8), at<std::uint32_t>(s + 16));
      if (rva >= va && rva < va + size) return rva - va + at<std::uint32_t>(s + 20);
    }
    return 0;
  }
  std::uint32_t section_va(std::int16_t number) const {
    return number >= 1 ? at<std::uint32_t>(sections() + 40u * static_cast<std::uint16_t>(number - 1) + 12) : 0;
  }
  std::string section_name(std::uint16_t i) const { return string_at(sections() + 40u * i).substr(0, 8); }
  std::uint32_t section_virtual_size(std::uint16_t i) const { return at<std::uint32_t>(sections() + 40u * i + 8); }
  std::uint32_t section_raw_size(std::uint16_t i) const { return at<std::uint32_t>(sections() + 40u * i + 16); }
  std::uint32_t section_raw_offset(std::uint16_t i) const { return at<std::uint32_t>(sections() + 40u * i + 20); }
  // Index of the named section, or section_count() if there is none.
  std::uint16_t find_section(const std::string& name) const {
    std::uint16_t i = 0;
    while (i < section_count() && section_name(i) != name) ++i;
    return i;
  }
  std::size_t size() const { return bytes_.size(); }
  const std::string& bytes() const { return bytes_; }
  std::uint32_t directory_rva(unsigned index) const { return at<std::uint32_t>(optional_header() + 112 + 8u * index); }
  std::uint32_t directory_size(unsigned index) const { return at<std::uint32_t>(optional_header() + 116 + 8u * index); }

 private:
  std::string bytes_;
};

}  // namespace procsentry::test
