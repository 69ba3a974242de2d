// NEGATIVE CONTROL. The seed's process-notify callback (../shared/seed/), transcribed with
// its static Msg/Msg_Size intact, compiled against the same emulation as procsentry's driver.
// Tests run it concurrently and require the harness to catch it: this proves the harness can
// see the bug class the project exists to prevent. Never used by the product.
#include "seed_callback.h"

#include <atomic>

namespace seed {
namespace {

constexpr ULONG msg_tag = 'F' | ('I' << 8) | ('R' << 16) | (static_cast<ULONG>('E') << 24);

struct _Client_Msg_Packet {
  ULONG magic_num;
  ULONG type;
};
struct _Msg_ProcessCreate {
  _Client_Msg_Packet packet;
  ULONG pid;
  ULONG ppid;
  SIZE_T path_size;
  SIZE_T commandsize;
  SIZE_T commandoffset;
  WCHAR path[1];
};

// The bug: shared by every concurrent invocation.
static size_t Msg_Size = 0;
_Msg_ProcessCreate* Msg = nullptr;

std::atomic<std::size_t> g_corrupted{0};
std::atomic<std::size_t> g_sent{0};

// kernel_msg::SendCreateProcessEvent: checks that the message it is handed is the one its
// caller built (pid and path agree), as a client reading it would.
bool SendCreateProcessEvent(_Msg_ProcessCreate* msg, size_t size, ULONG expected_pid, PCUNICODE_STRING image) {
  kemu::schedule_point(kemu::Point::message_send);
  g_sent++;
  if (msg == nullptr || size < sizeof(_Msg_ProcessCreate) || msg->packet.magic_num != 0x1337 ||
      msg->pid != expected_pid || std::memcmp(msg->path, image->Buffer, image->Length) != 0) {
    g_corrupted++;
  }
  return true;
}

}  // namespace

void CreateNotifyRoutine(PEPROCESS, HANDLE Process_Id, PPS_CREATE_NOTIFY_INFO Create_Info) {
  bool isCreate = Create_Info != nullptr;
  if (isCreate) {
    Msg_Size = sizeof(_Msg_ProcessCreate);
    Msg_Size += static_cast<size_t>(Create_Info->ImageFileName->Length) + sizeof(WCHAR);
    Msg_Size += static_cast<size_t>(Create_Info->CommandLine->Length) + sizeof(WCHAR);
    Msg = static_cast<_Msg_ProcessCreate*>(ExAllocatePoolWithTag(PagedPool, Msg_Size, msg_tag));
    do {
      if (Msg == nullptr) break;
      std::memset(Msg, 0, Msg_Size);
      Msg->packet.magic_num = 0x1337;
      Msg->packet.type = 1;
      Msg->pid = static_cast<ULONG>(reinterpret_cast<ULONG_PTR>(Process_Id));
      Msg->ppid = static_cast<ULONG>(reinterpret_cast<ULONG_PTR>(Create_Info->ParentProcessId));
      Msg->path_size = static_cast<size_t>(Create_Info->ImageFileName->Length) + sizeof(WCHAR);
      Msg->commandsize = static_cast<size_t>(Create_Info->CommandLine->Length) + sizeof(WCHAR);
      std::memcpy(Msg->path, Create_Info->ImageFileName->Buffer, Create_Info->ImageFileName->Length);
      Msg->commandoffset = sizeof(_Client_Msg_Packet) + sizeof(ULONG) + sizeof(ULONG) + sizeof(size_t) +
                           sizeof(size_t) + sizeof(size_t) + Msg->path_size;
      std::memcpy(reinterpret_cast<UCHAR*>(Msg) + Msg->commandoffset, Create_Info->CommandLine->Buffer,
                  Create_Info->CommandLine->Length);
      if (!SendCreateProcessEvent(Msg, Msg_Size, static_cast<ULONG>(reinterpret_cast<ULONG_PTR>(Process_Id)),
                                  Create_Info->ImageFileName)) {
        break;
      }
    } while (false);
    if (Msg != nullptr) {
      ExFreePoolWithTag(Msg, msg_tag);
      Msg = nullptr;
      Msg_Size = 0;
    }
  }
}

ULONG pool_tag() { return msg_tag; }
std::size_t corrupted_messages() { return g_corrupted.load(); }

}  // namespace seed
