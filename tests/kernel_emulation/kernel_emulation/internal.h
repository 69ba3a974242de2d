// What the emulation's own files share (the driver never sees it): its violation counters,
// the handle table, and the token bookkeeping reset() clears.
#pragma once

#include "kernel_emulation/emulation.h"

namespace kemu::internal {

void count_reference_error();
void count_handle_error();
void count_irql_error();
bool handle_open(HANDLE handle);  // from ObOpenObjectByPointer, not yet closed
KIRQL current_irql();

void reset_tokens();
bool token_referenced(const EmulatedToken* token);
bool token_open_refused(PVOID object);  // a token whose test set open_fails

}  // namespace kemu::internal
