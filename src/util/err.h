/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* err: the one error model. GError domain DOMUS_ERROR, codes are libvirt's virErrorNumber
 * values, and each error carries libvirt's error origin (virErrorDomain) as private data. */
#pragma once

#include <glib.h>

#define DOMUS_ERROR (err_quark())
GQuark err_quark(void);

/* libvirt's virErrorNumber values (include/libvirt/virterror.h); they cross the wire as is. */
enum err_code {
    ERR_INTERNAL_ERROR = 1,
    ERR_NO_SUPPORT = 3,
    ERR_INVALID_ARG = 8,
    ERR_OPERATION_FAILED = 9,
    ERR_XML_ERROR = 27,
    ERR_DOM_EXIST = 28,
    ERR_XML_DETAIL = 35,
    ERR_OPERATION_DENIED = 29,
    ERR_OPEN_FAILED = 30,
    ERR_AUTH_FAILED = 45,
    ERR_READ_FAILED = 31,
    ERR_WRITE_FAILED = 34,
    ERR_SYSTEM_ERROR = 38,
    ERR_RPC = 39,
    ERR_NETWORK_EXIST = 37,
    ERR_NO_DOMAIN = 42,
    ERR_NO_NETWORK = 43,
    ERR_NO_NODE_DEVICE = 53,
    ERR_NO_INTERFACE = 57,
    ERR_NO_SECRET = 66,
    ERR_INVALID_SECRET = 65,
    ERR_NO_STORAGE_POOL = 49,
    ERR_NO_STORAGE_VOL = 50,
    ERR_OPERATION_INVALID = 55,
    ERR_CONFIG_UNSUPPORTED = 67,
    ERR_OPERATION_TIMEOUT = 68,
    ERR_MIGRATE_PERSIST_FAILED = 69,
    ERR_NO_DOMAIN_SNAPSHOT = 72,
    ERR_INVALID_DOMAIN_CHECKPOINT = 102,
    ERR_NO_DOMAIN_CHECKPOINT = 103,
    ERR_NO_DOMAIN_BACKUP = 104,
    ERR_CHECKPOINT_INCONSISTENT = 109,
    ERR_INVALID_STREAM = 73,
    ERR_ARGUMENT_UNSUPPORTED = 74,
    ERR_SNAPSHOT_REVERT_RISKY = 77,
    ERR_OPERATION_ABORTED = 78,
    ERR_MIGRATE_UNSAFE = 81,
    ERR_MIGRATE_FINISH_OK = 93, /* Finish with cancelled: the destination dropped the guest */
    ERR_NO_DOMAIN_METADATA = 80,
    ERR_OVERFLOW = 82,
    ERR_OPERATION_UNSUPPORTED = 84,
    ERR_AGENT_UNRESPONSIVE = 86,
    ERR_RESOURCE_BUSY = 87,
    ERR_NO_HOSTNAME = 108,
    ERR_STORAGE_VOL_EXIST = 90,
    ERR_CPU_INCOMPATIBLE = 91,
    ERR_BLOCK_COPY_ACTIVE = 83,
    ERR_XML_INVALID_SCHEMA = 92,
    ERR_DEVICE_MISSING = 99,
};

/* libvirt's virErrorDomain values: where an error was raised. */
enum err_origin {
    ERR_FROM_NONE = 0,
    ERR_FROM_RPC = 7,
    ERR_FROM_CONF = 9,
    ERR_FROM_QEMU = 10,
    ERR_FROM_REMOTE = 13,
    ERR_FROM_STORAGE = 18,
    ERR_FROM_NODEDEV = 22,
    ERR_FROM_INTERFACE = 26,
    ERR_FROM_SECRET = 30,
    ERR_FROM_NETWORK = 19,
    ERR_FROM_DOMAIN = 20,
    ERR_FROM_SECURITY = 24,
    ERR_FROM_DOMAIN_SNAPSHOT = 35,
    ERR_FROM_CPU = 31,
    ERR_FROM_DOMAIN_CHECKPOINT = 69,
    ERR_FROM_STREAMS = 38,
    ERR_FROM_CAPABILITIES = 44,
    ERR_FROM_URI = 45,
    ERR_FROM_DEVICE = 49,
};

/* Sets *error (when error is not NULL) to a DOMUS_ERROR with the given code and origin. */
void err_set(GError **error, int origin, int code, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Like err_set, with strerror(errnum) appended after ": ". Code ERR_SYSTEM_ERROR. */
void err_set_errno(GError **error, int origin, int errnum, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* The libvirt origin of an error; ERR_FROM_NONE for errors not from DOMUS_ERROR. */
int err_origin(const GError *error);

/* The libvirt code of any error: its code for DOMUS_ERROR, ERR_INTERNAL_ERROR otherwise. */
int err_code(const GError *error);
