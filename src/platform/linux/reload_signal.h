// SIGHUP asks a service to read its configuration again (as sshd, rsyslogd do). Only used
// when there is a file to read: without one, SIGHUP keeps its default (a closed terminal
// ends the monitor).
#pragma once

namespace procsentry {

void reload_on_sighup();
// True once per SIGHUP received since the last call (several in a row count once).
bool take_reload_request();

}  // namespace procsentry
