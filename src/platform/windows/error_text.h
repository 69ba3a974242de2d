// A Windows error code (GetLastError) as Windows words it, for one line to the user.
#pragma once

#include <windows.h>

#include <string>

namespace procsentry {

std::string windows_error_text(DWORD error);

}  // namespace procsentry
