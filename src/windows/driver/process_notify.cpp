#include "process_notify.h"

#include "process_token.h"
#include "read_dispatch.h"
#include "system_time.h"

#if defined(PROCSENTRY_TEST_SEED_STATIC_MESSAGE) && !defined(PROCSENTRY_KERNEL_EMULATION)
#error "PROCSENTRY_TEST_SEED_STATIC_MESSAGE is the emulation's negative control, never a driver build"
#endif

namespace procsentry::driver {
namespace {

ULONG handle_to_id(HANDLE h) { return static_cast<ULONG>(reinterpret_cast<ULONG_PTR>(h)); }

void init_header(ps_header& hdr, UCHAR type, ULONG size, ULONG64 now_ns) {
  hdr.magic = PS_WIRE_MAGIC;
  hdr.version = PS_WIRE_VERSION;
  hdr.type = type;
  hdr.size = size;
  hdr.timestamp_ns = now_ns;
  hdr.clock = PS_CLOCK_UNIX_EPOCH;
  hdr.cpu = current_cpu();
}

// What of an optional UNICODE_STRING (Windows may pass none) goes into the record: at most
// PS_WINDOWS_STR_MAX bytes, whole UTF-16 units, never half of a surrogate pair, so that every
// record fits one read and decodes.
ULONG kept_length(PCUNICODE_STRING s) {
  if (s == nullptr || s->Buffer == nullptr) return 0;
  ULONG length = s->Length < PS_WINDOWS_STR_MAX ? s->Length : PS_WINDOWS_STR_MAX;
  length &= ~1u;
  if (length < s->Length && length != 0) {
    WCHAR last = s->Buffer[length / 2 - 1];
    if (last >= 0xD800 && last <= 0xDBFF) length -= 2;  // its low half was cut off
  }
  return length;
}

void place_text(RecordNode* node, ULONG& at, PCUNICODE_STRING s, ps_str& desc) {
  if (s == nullptr || s->Buffer == nullptr) return;  // absent: descriptor stays all zero
  ULONG length = kept_length(s);
  RtlCopyMemory(node->bytes + at, s->Buffer, length);
  desc.offset = at;
  desc.length = length;
  desc.original_length = s->Length;
  desc.flags = PS_STR_PRESENT | PS_STR_UTF16LE;
  if (length < s->Length) desc.flags |= PS_STR_TRUNCATED;
  at += length;
}

// A process's identity with its pid (the client's process_uid): its creation time, the same
// in its create and its exit record.
ULONG64 creation_time_ns(PEPROCESS process) {
  return windows_time_to_epoch_ns(PsGetProcessCreateTimeQuadPart(process));
}

// The parent is alive while its child is created (the creator holds it: it is the creator
// itself, or a handle passed as PROC_THREAD_ATTRIBUTE_PARENT_PROCESS), so its pid names it;
// 0 if the lookup fails all the same.
ULONG64 parent_creation_time_ns(HANDLE parent_id) {
  PEPROCESS parent = nullptr;
  if (!NT_SUCCESS(PsLookupProcessByProcessId(parent_id, &parent))) return 0;
  ULONG64 t = creation_time_ns(parent);
  ObDereferenceObject(parent);
  return t;
}

}  // namespace

RecordNode* build_create_record(PEPROCESS process, HANDLE process_id, const PS_CREATE_NOTIFY_INFO& info) {
  // Room for the largest SID: the token is read once the record exists (an exhausted pool
  // costs no token queries), and the record then keeps its own size (node->size), which is
  // what the queue's byte limit counts.
  ULONG size = static_cast<ULONG>(sizeof(ps_create)) + kept_length(info.ImageFileName) + kept_length(info.CommandLine) +
               PS_SID_MAX;
#ifdef PROCSENTRY_TEST_SEED_STATIC_MESSAGE
  // Test-only (never in a shipped build): the seed's bug, one message shared by every
  // concurrent callback, so the emulation's storms can prove they catch it in this code.
  static RecordNode* node;
  node = allocate_record(size);
#else
  RecordNode* node = allocate_record(size);
#endif
  if (node == nullptr) return nullptr;
  TokenFacts token;
  read_primary_token(process, token);
  ps_create body;
  RtlZeroMemory(&body, sizeof(body));
  body.task.pid = handle_to_id(process_id);
  body.task.ppid = handle_to_id(info.ParentProcessId);
  body.task.tid = handle_to_id(info.CreatingThreadId.UniqueThread);
  body.task.start_time_ns = creation_time_ns(process);
  body.creator_pid = handle_to_id(info.CreatingThreadId.UniqueProcess);
  body.session_id = PsGetProcessSessionId(process);
  body.create_flags = PS_CREATE_PARENT_START_TIME | PS_CREATE_TOKEN;
  if (info.FileOpenNameAvailable) body.create_flags |= PS_CREATE_FILE_OPEN_NAME_AVAILABLE;
  // PS_CREATE_NOTIFY_INFO.IsSubsystemProcess (bit 1 of Flags; mingw-w64's DDK has no field for it).
  if ((info.Flags & 0x2u) != 0) body.create_flags |= PS_CREATE_SUBSYSTEM_PROCESS;
  body.parent_start_time_ns = parent_creation_time_ns(info.ParentProcessId);
  body.token_flags = token.flags;
  body.integrity_rid = token.integrity_rid;
  body.logon_id = token.logon_id;
  body.token_type = token.token_type;
  body.elevation_type = token.elevation_type;
  body.elevated = token.elevated;
  ULONG at = sizeof(ps_create);
  place_text(node, at, info.ImageFileName, body.image);
  place_text(node, at, info.CommandLine, body.command_line);
  if (token.sid_length != 0) {
    RtlCopyMemory(node->bytes + at, token.sid, token.sid_length);
    body.user_sid = ps_str{at, token.sid_length, token.sid_length, PS_STR_PRESENT, 0};
    at += token.sid_length;
  }
  node->size = at;
  init_header(body.hdr, PS_REC_CREATE, at, now_epoch_ns());
  RtlCopyMemory(node->bytes, &body, sizeof(body));
  return node;
}

RecordNode* build_exit_record(PEPROCESS process, HANDLE process_id) {
  RecordNode* node = allocate_record(sizeof(ps_exit));
  if (node == nullptr) return nullptr;
  ps_exit body;
  RtlZeroMemory(&body, sizeof(body));
  init_header(body.hdr, PS_REC_EXIT, sizeof(body), now_epoch_ns());
  body.task.pid = handle_to_id(process_id);
  body.task.start_time_ns = creation_time_ns(process);
  body.exit_status = static_cast<ULONG>(PsGetProcessExitStatus(process));
  body.exit_flags = PS_EXIT_WINDOWS_CODE;
  RtlCopyMemory(node->bytes, &body, sizeof(body));
  return node;
}

void on_process_notify(PEPROCESS process, HANDLE process_id, PPS_CREATE_NOTIFY_INFO create_info) {
  DeviceContext* context = g_context;
  RecordNode* node = create_info != nullptr ? build_create_record(process, process_id, *create_info)
                                            : build_exit_record(process, process_id);
  if (node == nullptr) {
    context->queue.count_drop(PS_LOST_ALLOC_FAILED, now_epoch_ns(), current_cpu());
  } else {
    context->queue.push(node);  // on a full queue the record is freed and counted
  }
  // Never waits for the client: completes a read only if one is already pending.
  deliver_pending_reads(*context);
}

}  // namespace procsentry::driver
