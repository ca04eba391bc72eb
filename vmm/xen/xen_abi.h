/* Xen's public ABI from Debian's libxen-dev.  Those headers assume the
 * fixed-width integer types are already declared, so include them here once. */
#ifndef DOMUS_VMM_XEN_ABI_H
#define DOMUS_VMM_XEN_ABI_H

/* The interface Linux 6.1 speaks: the latest of the 4.17 headers (older ones
 * hide ops such as GNTTABOP_set_version). */
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif

#include <stdint.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/version.h>
#include <xen/vcpu.h>
#include <xen/sched.h>
#include <xen/features.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>

#endif
