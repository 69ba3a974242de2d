// Windows' mode 0600: command lines hold secrets, so the files we write (the event store,
// --output) admit only this process's user, Administrators and SYSTEM, and inherit nothing from
// their directory.
#pragma once

#include <windows.h>

#include <memory>

#include "core/result.h"

namespace procsentry {

struct LocalFreeDeleter {
  void operator()(void* p) const { LocalFree(p); }
};
using SecurityDescriptor = std::unique_ptr<void, LocalFreeDeleter>;

// A security descriptor with that DACL, protected (D:P), for CreateFile's SECURITY_ATTRIBUTES.
Result<SecurityDescriptor> private_descriptor();

// Narrows a file opened with WRITE_DAC to `descriptor`'s DACL: ERROR_SUCCESS or why not.
DWORD narrow_to_private(HANDLE file, PSECURITY_DESCRIPTOR descriptor);

}  // namespace procsentry
