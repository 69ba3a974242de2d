// procsentry.exe install|uninstall|start|stop: the driver's kernel service through the Service
// Control Manager, so that no one needs sc.exe and its `type= kernel` spelling.
#pragma once

namespace procsentry {

// argv[1] is one of the four commands.
bool is_service_command(int argc, char** argv);
// Runs it: 0 done, 1 failed (one line on stderr saying what to do), 2 usage.
int run_service_command(int argc, char** argv);

}  // namespace procsentry
