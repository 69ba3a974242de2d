// What one completed read of \\.\procsentry holds, handed on record by record. No Windows
// API: the kernel emulation's tests feed the driver's reads through this same code.
#pragma once

#include <cstdint>
#include <span>

#include "sources/record_handler.h"

namespace procsentry {

// Splits `bytes` at each header's size and passes every record to `handler`, then ends the
// batch; a torn tail goes to the handler too (its decoder counts the error). Returns the
// number of whole records.
int deliver_read(std::span<const std::uint8_t> bytes, RecordHandler& handler);

}  // namespace procsentry
