// Primary tokens: PsReferencePrimaryToken / PsDereferencePrimaryToken counted per token,
// ZwQueryInformationToken answering from the process's EmulatedToken in the layouts ntifs.h
// gives (the structure first, the SID it points to after it, in the caller's buffer).
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "kernel_emulation/emulation.h"
#include "kernel_emulation/internal.h"

namespace {

// Never held while calling into emulation.cpp (whose reset() holds its lock and calls in here).
struct Tokens {
  std::mutex mutex;
  std::map<const EmulatedToken*, long> references;
  std::size_t queries = 0;
};

Tokens& tokens() {
  static Tokens t;
  return t;
}

SID label_sid(ULONG rid) {  // S-1-16-<rid>
  SID sid{};
  const UCHAR head[8] = {1, 1, 0, 0, 0, 0, 0, 16};
  std::memcpy(sid.bytes, head, sizeof(head));
  std::memcpy(sid.bytes + 8, &rid, sizeof(rid));
  sid.length = 12;
  return sid;
}

// The structure, then the SID it points to, as the kernel lays them out.
template <typename Holder>
NTSTATUS answer_with_sid(const SID& sid, PVOID buffer, ULONG length, PULONG returned) {
  const ULONG need = static_cast<ULONG>(sizeof(Holder) + sizeof(SID));
  *returned = need;
  if (length < need) return STATUS_BUFFER_TOO_SMALL;
  auto* holder = static_cast<Holder*>(buffer);
  auto* copy = reinterpret_cast<SID*>(static_cast<UCHAR*>(buffer) + sizeof(Holder));
  *copy = sid;
  std::memset(holder, 0, sizeof(Holder));
  reinterpret_cast<SID_AND_ATTRIBUTES*>(holder)->Sid = copy;
  return STATUS_SUCCESS;
}

template <typename Value>
NTSTATUS answer(const Value& value, PVOID buffer, ULONG length, PULONG returned) {
  *returned = sizeof(Value);
  if (length < sizeof(Value)) return STATUS_BUFFER_TOO_SMALL;
  std::memcpy(buffer, &value, sizeof(Value));
  return STATUS_SUCCESS;
}

}  // namespace

PACCESS_TOKEN PsReferencePrimaryToken(PEPROCESS process) {
  if (kemu::internal::current_irql() != PASSIVE_LEVEL) kemu::internal::count_irql_error();
  std::lock_guard lock(tokens().mutex);
  tokens().references[&process->token]++;
  return &process->token;
}

VOID PsDereferencePrimaryToken(PACCESS_TOKEN token) {
  bool held = false;
  {
    std::lock_guard lock(tokens().mutex);
    auto it = tokens().references.find(static_cast<const EmulatedToken*>(token));
    if (it != tokens().references.end()) {
      held = true;
      if (--it->second == 0) tokens().references.erase(it);
    }
  }
  if (!held) kemu::internal::count_reference_error();
}

NTSTATUS ZwQueryInformationToken(HANDLE handle, TOKEN_INFORMATION_CLASS what, PVOID buffer, ULONG length,
                                 PULONG returned) {
  if (kemu::internal::current_irql() != PASSIVE_LEVEL) kemu::internal::count_irql_error();
  if (!kemu::internal::handle_open(handle)) {
    kemu::internal::count_handle_error();
    return STATUS_INVALID_HANDLE;
  }
  const auto* token = static_cast<const EmulatedToken*>(handle);
  {
    std::lock_guard lock(tokens().mutex);
    tokens().queries++;
  }
  if ((token->failing_classes & (1u << what)) != 0) return STATUS_ACCESS_DENIED;
  switch (what) {
    case TokenUser:
      return answer_with_sid<TOKEN_USER>(token->user, buffer, length, returned);
    case TokenIntegrityLevel:
      return answer_with_sid<TOKEN_MANDATORY_LABEL>(label_sid(token->integrity_rid), buffer, length, returned);
    case TokenElevation:
      return answer(TOKEN_ELEVATION{token->elevated}, buffer, length, returned);
    case TokenElevationType:
      return answer(token->elevation_type, buffer, length, returned);
    case TokenStatistics: {
      TOKEN_STATISTICS s{};
      s.TokenId = LUID{0x1234, 0};
      s.AuthenticationId = token->logon_id;
      s.TokenType = token->type;
      return answer(s, buffer, length, returned);
    }
  }
  return STATUS_INVALID_INFO_CLASS;
}

// A SID's binary form: revision 1, the count, the 48-bit authority big-endian, then each
// sub-authority little-endian.
BOOLEAN RtlValidSid(PSID sid) {
  return sid != nullptr && sid->bytes[0] == 1 && sid->bytes[1] <= 15 && sid->length == 8u + 4u * sid->bytes[1];
}
PUCHAR RtlSubAuthorityCountSid(PSID sid) { return &sid->bytes[1]; }
PULONG RtlSubAuthoritySid(PSID sid, ULONG index) { return reinterpret_cast<PULONG>(sid->bytes + 8 + 4 * index); }

namespace kemu {

std::size_t token_references() {
  std::lock_guard lock(tokens().mutex);
  std::size_t n = 0;
  for (const auto& [token, count] : tokens().references) n += static_cast<std::size_t>(count);
  return n;
}

std::size_t token_queries() {
  std::lock_guard lock(tokens().mutex);
  return tokens().queries;
}

SID sid_from_string(const std::string& text) {
  SID sid{};
  if (text.rfind("S-1-", 0) != 0) return sid;
  std::size_t at = 4;
  auto number = [&](unsigned long long& out) {
    std::size_t end = text.find('-', at);
    if (end == std::string::npos) end = text.size();
    if (end == at) return false;
    out = std::stoull(text.substr(at, end - at));
    at = end + 1;
    return true;
  };
  unsigned long long authority = 0;
  if (!number(authority)) return sid;
  sid.bytes[0] = 1;
  for (int i = 0; i < 6; ++i) sid.bytes[2 + i] = static_cast<UCHAR>(authority >> (8 * (5 - i)));
  UCHAR count = 0;
  for (unsigned long long sub = 0; at <= text.size() && count < 15 && number(sub); ++count) {
    const ULONG value = static_cast<ULONG>(sub);
    std::memcpy(sid.bytes + 8 + 4 * count, &value, sizeof(value));
  }
  sid.bytes[1] = count;
  sid.length = 8u + 4u * count;
  return sid;
}

namespace internal {

void reset_tokens() {
  std::lock_guard lock(tokens().mutex);
  tokens().references.clear();
  tokens().queries = 0;
}

bool token_referenced(const EmulatedToken* token) {
  std::lock_guard lock(tokens().mutex);
  return tokens().references.count(token) != 0;
}

bool token_open_refused(PVOID object) {
  std::lock_guard lock(tokens().mutex);
  const auto* token = static_cast<const EmulatedToken*>(object);
  return tokens().references.count(token) != 0 && token->open_fails;
}

}  // namespace internal
}  // namespace kemu
