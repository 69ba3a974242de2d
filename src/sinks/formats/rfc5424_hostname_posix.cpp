// The local host name for RFC 5424's HOSTNAME on Linux (the Windows client passes the
// platform layer's host_name()).
#include <unistd.h>

#include <climits>

#include "sinks/formats/rfc5424_format.h"

namespace procsentry {

std::string Rfc5424Formatter::local_hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "-";
  std::string out;
  for (const char* c = name; *c != '\0' && out.size() < 255; ++c) {
    if (*c > ' ' && *c < 127) out += *c;
  }
  return out.empty() ? "-" : out;
}

}  // namespace procsentry
