#pragma once

#include <cstddef>

#include "kernel_emulation/ddk.h"

namespace seed {
void CreateNotifyRoutine(PEPROCESS process, HANDLE process_id, PPS_CREATE_NOTIFY_INFO create_info);
ULONG pool_tag();
std::size_t corrupted_messages();
}  // namespace seed
