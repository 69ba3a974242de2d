// The `rules:` section of the configuration file, read into a RuleList: every bad key, type,
// glob or regex is one error naming the file, the line and the key.
#pragma once

#include "config/config_file.h"
#include "core/result.h"
#include "rules/rule_set.h"

namespace procsentry {

Result<RuleList> rules_from_config(const ConfigFile& file);

}  // namespace procsentry
