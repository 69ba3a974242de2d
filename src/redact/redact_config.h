// The `redact:` key of the configuration file: `true`/`false` (`on`/`off`), or a map
// `{builtin: BOOL, options: [NAME...], regex: [RE2...]}`; absent, the built-ins alone. Every
// bad key, type, name or regex is one error naming the file, the line and the key.
#pragma once

#include "config/config_file.h"
#include "core/result.h"
#include "redact/redactor.h"

namespace procsentry {

Result<RedactSettings> redact_from_config(const ConfigFile& file);

}  // namespace procsentry
