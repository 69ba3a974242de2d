// Whether a file the Windows client wrote is private, as tests/windows/file_dacl_check.exe
// reports its DACL under Wine. Mainline Wine keeps no ACL: it maps a DACL to the file's Unix mode
// and reports one made from the mode. What it can show: the client's DACL gives no one but the
// user (and those Windows always admits) any access; a file created without one is readable by
// Everyone.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>

#include <set>
#include <sstream>
#include <string>

#include "support/wine.h"

namespace procsentry::test {

// "" when only this user, Administrators (S-1-5-32-544) and SYSTEM (S-1-5-18) may open `path`
// (a Linux path, also given to the check as Z:PATH), else what is wrong.
inline std::string windows_acl_problem(const std::string& dacl_check_exe, const std::string& path) {
  Captured acl = run_wine(dacl_check_exe, {"Z:" + path});
  if (!WIFEXITED(acl.status) || WEXITSTATUS(acl.status) != 0) return "file_dacl_check failed: " + acl.err;
  std::istringstream lines(acl.out);
  std::string user;
  std::set<std::string> allowed;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream words(line);
    std::string kind, sid;
    words >> kind >> sid;
    if (kind == "user") user = sid;
    if (kind == "allow") allowed.insert(sid);
    if (kind == "null-dacl") return "a NULL DACL lets everyone in";
    if (kind == "ace-type") return "an ACE that is not an allow: " + line;
  }
  if (user.empty()) return "no user in:\n" + acl.out;
  if (!allowed.contains(user)) return "the user may not open it:\n" + acl.out;
  for (const std::string& sid : allowed) {
    if (sid != user && sid != "S-1-5-32-544" && sid != "S-1-5-18") return sid + " may open it:\n" + acl.out;
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "no such file";
  if ((st.st_mode & 07) != 0) return "others may open it (mode " + std::to_string(st.st_mode & 0777) + " decimal)";
  return {};
}

}  // namespace procsentry::test
