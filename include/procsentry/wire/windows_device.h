/* The Windows driver's device contract, shared by the driver and its clients. */
#ifndef PROCSENTRY_WINDOWS_DEVICE_H
#define PROCSENTRY_WINDOWS_DEVICE_H

#include "procsentry/wire/wire.h"

#define PS_DEVICE_NAME L"\\Device\\procsentry"
#define PS_DEVICE_LINK L"\\DosDevices\\procsentry"
#define PS_DEVICE_PATH "\\\\.\\procsentry" /* what a client opens */

/* CTL_CODE(FILE_DEVICE_UNKNOWN 0x22, 0x800, METHOD_BUFFERED 0, FILE_READ_ACCESS 1):
 * returns as many whole records as fit; pends until at least one is queued. */
#define PS_IOCTL_READ 0x00226000u

/* CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_READ_ACCESS): the version
 * handshake a client makes on open. Input: the client's ps_device_version; output: the
 * driver's (wire_version = its PS_WIRE_VERSION). A client refuses a driver of another wire
 * version; a driver older than the handshake answers STATUS_INVALID_DEVICE_REQUEST. The
 * driver fails PS_IOCTL_READ with STATUS_REVISION_MISMATCH on an open whose client has not
 * sent its own PS_WIRE_VERSION here. */
#define PS_IOCTL_VERSION 0x00226004u

struct ps_device_version {
	ps_u32 wire_version; /* PS_WIRE_VERSION of the side that sends it */
	ps_u32 reserved;     /* zero */
};
PS_STATIC_ASSERT(sizeof(struct ps_device_version) == 8, "ps_device_version size");

/* The driver keeps at most this many bytes of each string (a whole number of UTF-16 units);
 * longer ones are cut, flagged PS_STR_TRUNCATED with their original length (a UNICODE_STRING
 * may be 65535 bytes). A read buffer must hold the largest record the driver can queue. */
#define PS_WINDOWS_STR_MAX 65534u
#define PS_WINDOWS_RECORD_MAX (sizeof(struct ps_create) + 2 * PS_WINDOWS_STR_MAX + PS_SID_MAX)
#define PS_WINDOWS_READ_MIN PS_WINDOWS_RECORD_MAX

#endif
