// A Report (event_report.h) as aligned tables for a terminal, or as one JSON object.
// Recorded texts are attacker-controlled: escaped for the terminal as query's table does.
#pragma once

#include <string>

#include "store/event_report.h"

namespace procsentry {

void append_report_table(std::string& out, const Report& report);
// One JSON object and a newline; a text that is not valid UTF-8 also gets a lossless
// "<key>_b64" companion, as in the event JSON.
void append_report_json(std::string& out, const Report& report);

}  // namespace procsentry
