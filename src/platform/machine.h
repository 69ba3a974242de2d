// This machine as the core needs it, read from the OS: the boot clock's offset to the wall
// clock, how process identities are made, and the user database. One implementation per
// platform (linux/machine.cpp, windows/machine.cpp).
#pragma once

#include <string>

#include "core/clock.h"
#include "core/process_uid.h"
#include "core/user_names.h"

namespace procsentry {

// Linux: CLOCK_REALTIME - CLOCK_BOOTTIME, the tightest of a few samples. Windows: zero (its
// records are stamped in epoch time already).
ClockMapping boot_clock_mapping();
// Linux: this boot's id (/proc/sys/kernel/random/boot_id), empty if unreadable. Windows: empty.
std::string boot_id();
// Linux: /etc/machine-id (systemd's, or D-Bus's copy), empty if there is none. Windows: the
// installation's MachineGuid. What says which machine an event's seq belongs to.
std::string host_id();
// This machine's name (the schema formats' host.name / device.hostname), empty if unknown.
std::string host_name();
// Linux: the boot id and USER_HZ ticks (10 ms). Windows: no boot id the client can read
// without privileges it lacks; create times are FILETIME (100 ns) and never repeat for one
// pid, so they make the identity.
ProcessUidScheme process_uid_scheme();
// Linux: the passwd and group databases. Windows: none (its records carry no uid).
UserDatabase& user_database();

}  // namespace procsentry
