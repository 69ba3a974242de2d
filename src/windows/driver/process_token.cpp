#include "process_token.h"

namespace procsentry::driver {
namespace {

// ZwQueryInformationToken writes the structure and, for TokenUser and TokenIntegrityLevel,
// the SID it points to after it, into the caller's buffer: on the stack, nothing to free.
// (SeQueryInformationToken would allocate paged pool per query, and its documented classes
// have neither the integrity level nor the elevation.)
union QueryBuffer {
  TOKEN_USER user;
  TOKEN_MANDATORY_LABEL label;
  TOKEN_ELEVATION elevation;
  TOKEN_STATISTICS statistics;
  ULONG elevation_type;  // TOKEN_ELEVATION_TYPE
  UCHAR bytes[sizeof(TOKEN_USER) + PS_SID_MAX + 44];
};

bool query(HANDLE token, TOKEN_INFORMATION_CLASS what, QueryBuffer& buffer) {
  ULONG returned = 0;
  return NT_SUCCESS(ZwQueryInformationToken(token, what, &buffer, sizeof(buffer), &returned));
}

bool valid_sid(PSID sid) { return sid != nullptr && RtlValidSid(sid) && RtlLengthSid(sid) <= PS_SID_MAX; }

void read_user(HANDLE token, TokenFacts& facts) {
  QueryBuffer buffer;
  if (!query(token, TokenUser, buffer) || !valid_sid(buffer.user.User.Sid)) return;
  facts.sid_length = RtlLengthSid(buffer.user.User.Sid);
  RtlCopyMemory(facts.sid, buffer.user.User.Sid, facts.sid_length);
  facts.flags |= PS_TOKEN_USER;
}

// The mandatory label is S-1-16-<level>: its last sub-authority is the level's RID.
void read_integrity(HANDLE token, TokenFacts& facts) {
  QueryBuffer buffer;
  if (!query(token, TokenIntegrityLevel, buffer) || !valid_sid(buffer.label.Label.Sid)) return;
  const UCHAR count = *RtlSubAuthorityCountSid(buffer.label.Label.Sid);
  if (count == 0) return;
  facts.integrity_rid = *RtlSubAuthoritySid(buffer.label.Label.Sid, count - 1u);
  facts.flags |= PS_TOKEN_INTEGRITY;
}

void read_elevation(HANDLE token, TokenFacts& facts) {
  QueryBuffer buffer;
  if (!query(token, TokenElevation, buffer)) return;
  const UCHAR elevated = buffer.elevation.TokenIsElevated != 0 ? 1 : 0;
  if (!query(token, TokenElevationType, buffer)) return;
  facts.elevated = elevated;
  facts.elevation_type = static_cast<UCHAR>(buffer.elevation_type);
  facts.flags |= PS_TOKEN_ELEVATION;
}

void read_statistics(HANDLE token, TokenFacts& facts) {
  QueryBuffer buffer;
  if (!query(token, TokenStatistics, buffer)) return;
  const LUID& logon = buffer.statistics.AuthenticationId;
  facts.logon_id = (static_cast<ULONG64>(static_cast<ULONG>(logon.HighPart)) << 32) | logon.LowPart;
  facts.token_type = static_cast<UCHAR>(buffer.statistics.TokenType);
  facts.flags |= PS_TOKEN_STATISTICS;
}

}  // namespace

void read_primary_token(PEPROCESS process, TokenFacts& facts) {
  PACCESS_TOKEN token = PsReferencePrimaryToken(process);
  if (token == nullptr) return;
  // A kernel handle (OBJ_KERNEL_HANDLE: not in the creating process's table), for
  // ZwQueryInformationToken; KernelMode skips the access check, so no object type is needed.
  HANDLE handle = nullptr;
  if (NT_SUCCESS(ObOpenObjectByPointer(token, OBJ_KERNEL_HANDLE, nullptr, TOKEN_QUERY, nullptr, KernelMode, &handle))) {
    read_user(handle, facts);
    read_integrity(handle, facts);
    read_elevation(handle, facts);
    read_statistics(handle, facts);
    ZwClose(handle);
  }
  PsDereferencePrimaryToken(token);
}

}  // namespace procsentry::driver
