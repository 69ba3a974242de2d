#pragma once

#include <string>
#include <string_view>

namespace procsentry {

// UTF-16LE bytes (even length) -> UTF-8; unpaired surrogates become U+FFFD.
std::string utf16le_to_utf8(std::string_view bytes);

}  // namespace procsentry
