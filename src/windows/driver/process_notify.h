#pragma once

#include "device_context.h"

namespace procsentry::driver {

// PsSetCreateProcessNotifyRoutineEx callback. Windows calls it from many threads at once:
// each invocation builds its record in its own allocation (the seed's static buffer is the
// bug this project exists to avoid) and only touches shared state through RecordQueue.
void on_process_notify(PEPROCESS process, HANDLE process_id, PPS_CREATE_NOTIFY_INFO create_info);

// Wire records for one notification; nullptr when the pool is exhausted.
RecordNode* build_create_record(PEPROCESS process, HANDLE process_id, const PS_CREATE_NOTIFY_INFO& info);
RecordNode* build_exit_record(PEPROCESS process, HANDLE process_id);

}  // namespace procsentry::driver
