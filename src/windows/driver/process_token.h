// Who a new process runs as, read from its primary token in the create callback (what Sysmon
// and System Informer show first): user SID, integrity level, elevation, logon session, type.
#pragma once

#include "kernel.h"

namespace procsentry::driver {

struct TokenFacts {
  ULONG flags = 0;  // PS_TOKEN_*: which of the facts below were read
  ULONG integrity_rid = 0;
  ULONG64 logon_id = 0;
  UCHAR token_type = 0;
  UCHAR elevation_type = 0;
  UCHAR elevated = 0;
  ULONG sid_length = 0;
  UCHAR sid[PS_SID_MAX] = {};
};

// PASSIVE_LEVEL. Each fact the token refuses is left out (its flag clear); the token's
// reference and the handle used to query it are released on every path.
void read_primary_token(PEPROCESS process, TokenFacts& facts);

}  // namespace procsentry::driver
