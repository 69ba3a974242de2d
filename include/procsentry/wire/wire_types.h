/* The one shim between the wire header and each compiler's idea of fixed-width types. */
#ifndef PROCSENTRY_WIRE_TYPES_H
#define PROCSENTRY_WIRE_TYPES_H

#if defined(__bpf__)
/* BPF programs include vmlinux.h first, which defines the kernel's __u8..__u64. */
typedef __u8 ps_u8;
typedef __u16 ps_u16;
typedef __u32 ps_u32;
typedef __s32 ps_s32;
typedef __u64 ps_u64;
#define PS_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define PS_OFFSETOF(type, member) __builtin_offsetof(type, member)
#elif defined(PROCSENTRY_KERNEL_DRIVER)
/* Windows driver: the DDK has been included; its headers provide the MSVC-style types. */
typedef UINT8 ps_u8;
typedef UINT16 ps_u16;
typedef UINT32 ps_u32;
typedef INT32 ps_s32;
typedef UINT64 ps_u64;
#define PS_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define PS_OFFSETOF(type, member) __builtin_offsetof(type, member)
#else
#include <stdint.h>
typedef uint8_t ps_u8;
typedef uint16_t ps_u16;
typedef uint32_t ps_u32;
typedef int32_t ps_s32;
typedef uint64_t ps_u64;
#ifdef __cplusplus
#define PS_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define PS_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
#define PS_OFFSETOF(type, member) __builtin_offsetof(type, member)
#endif

#endif /* PROCSENTRY_WIRE_TYPES_H */
