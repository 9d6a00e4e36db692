/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* protocol: libvirt remote protocol constants (src/remote/remote_protocol.x,
 * src/rpc/virnetprotocol.x of libvirt 9.0), framing and common wire structs; prefix rpc_. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "rpc/xdr.h"
#include "util/uuid.h"

#define RPC_PROGRAM_REMOTE 0x20008086u
#define RPC_PROGRAM_QEMU 0x20008087u
#define RPC_PROGRAM_KEEPALIVE 0x6b656570u
/* Domus's own program ("DOMU"), for what libvirt's has no procedure */
#define RPC_PROGRAM_DOMUS 0x444f4d55u
#define RPC_PROTOCOL_VERSION 1u

#define RPC_HEADER_LEN 28u
/* VIR_NET_MESSAGE_MAX, not counting the 4-byte length word */
#define RPC_MESSAGE_MAX (32u * 1024 * 1024)

/* REMOTE_*_MAX array and string limits */
#define RPC_STRING_MAX XDR_STRING_MAX
#define RPC_DOMAIN_LIST_MAX 16384
#define RPC_AUTH_TYPE_LIST_MAX 20
#define RPC_SECURITY_MODEL_MAX 257
#define RPC_SECURITY_DOI_MAX 257
#define RPC_SECURITY_LABEL_MAX 4097
#define RPC_DOMAIN_MESSAGES_MAX 2048

enum rpc_type {
    RPC_CALL = 0,
    RPC_REPLY = 1,
    RPC_MESSAGE = 2,
    RPC_STREAM = 3,
    RPC_CALL_WITH_FDS = 4,
    RPC_REPLY_WITH_FDS = 5,
    RPC_STREAM_HOLE = 6,
};

enum rpc_status { RPC_OK = 0, RPC_ERROR = 1, RPC_CONTINUE = 2 };

enum rpc_keepalive_proc { RPC_KEEPALIVE_PING = 1, RPC_KEEPALIVE_PONG = 2 };

/* REMOTE_PROC_* numbers this code speaks */
enum rpc_proc {
    PROC_CONNECT_OPEN = 1,
    PROC_CONNECT_CLOSE = 2,
    PROC_CONNECT_GET_TYPE = 3,
    PROC_CONNECT_GET_VERSION = 4,
    PROC_CONNECT_GET_MAX_VCPUS = 5,
    PROC_NODE_GET_INFO = 6,
    PROC_CONNECT_GET_CAPABILITIES = 7,
    PROC_DOMAIN_CREATE = 9,
    PROC_DOMAIN_CREATE_XML = 10,
    PROC_DOMAIN_DEFINE_XML = 11,
    PROC_DOMAIN_DESTROY = 12,
    PROC_DOMAIN_GET_XML_DESC = 14,
    PROC_DOMAIN_GET_AUTOSTART = 15,
    PROC_DOMAIN_GET_INFO = 16,
    PROC_DOMAIN_GET_MAX_MEMORY = 17,
    PROC_DOMAIN_GET_OS_TYPE = 19,
    PROC_CONNECT_LIST_DEFINED_DOMAINS = 21,
    PROC_DOMAIN_LOOKUP_BY_ID = 22,
    PROC_DOMAIN_LOOKUP_BY_NAME = 23,
    PROC_DOMAIN_LOOKUP_BY_UUID = 24,
    PROC_CONNECT_NUM_OF_DEFINED_DOMAINS = 25,
    PROC_DOMAIN_REBOOT = 27,
    PROC_DOMAIN_RESUME = 28,
    PROC_DOMAIN_SET_AUTOSTART = 29,
    PROC_DOMAIN_SHUTDOWN = 33,
    PROC_DOMAIN_SUSPEND = 34,
    PROC_DOMAIN_UNDEFINE = 35,
    PROC_CONNECT_LIST_DOMAINS = 37,
    PROC_CONNECT_NUM_OF_DOMAINS = 51,
    PROC_CONNECT_GET_HOSTNAME = 59,
    PROC_CONNECT_SUPPORTS_FEATURE = 60,
    PROC_AUTH_LIST = 66,
    PROC_DOMAIN_EVENT_LIFECYCLE = 107,
    PROC_DOMAIN_EVENT_REBOOT = 169,
    PROC_CONNECT_NUM_OF_STORAGE_POOLS = 71,
    PROC_CONNECT_LIST_STORAGE_POOLS = 72,
    PROC_CONNECT_NUM_OF_DEFINED_STORAGE_POOLS = 73,
    PROC_CONNECT_LIST_DEFINED_STORAGE_POOLS = 74,
    PROC_STORAGE_POOL_CREATE_XML = 76,
    PROC_STORAGE_POOL_DEFINE_XML = 77,
    PROC_STORAGE_POOL_CREATE = 78,
    PROC_STORAGE_POOL_BUILD = 79,
    PROC_STORAGE_POOL_DESTROY = 80,
    PROC_STORAGE_POOL_DELETE = 81,
    PROC_STORAGE_POOL_UNDEFINE = 82,
    PROC_STORAGE_POOL_REFRESH = 83,
    PROC_STORAGE_POOL_LOOKUP_BY_NAME = 84,
    PROC_STORAGE_POOL_LOOKUP_BY_UUID = 85,
    PROC_STORAGE_POOL_LOOKUP_BY_VOLUME = 86,
    PROC_STORAGE_POOL_GET_INFO = 87,
    PROC_STORAGE_POOL_GET_XML_DESC = 88,
    PROC_STORAGE_POOL_GET_AUTOSTART = 89,
    PROC_STORAGE_POOL_SET_AUTOSTART = 90,
    PROC_STORAGE_POOL_NUM_OF_VOLUMES = 91,
    PROC_STORAGE_POOL_LIST_VOLUMES = 92,
    PROC_STORAGE_VOL_CREATE_XML = 93,
    PROC_STORAGE_VOL_DELETE = 94,
    PROC_STORAGE_VOL_LOOKUP_BY_NAME = 95,
    PROC_STORAGE_VOL_LOOKUP_BY_KEY = 96,
    PROC_STORAGE_VOL_LOOKUP_BY_PATH = 97,
    PROC_STORAGE_VOL_GET_INFO = 98,
    PROC_STORAGE_VOL_GET_XML_DESC = 99,
    PROC_STORAGE_VOL_GET_PATH = 100,
    PROC_NODE_GET_FREE_MEMORY = 102,
    PROC_CONNECT_GET_URI = 110,
    PROC_STORAGE_VOL_CREATE_XML_FROM = 125,
    PROC_STORAGE_POOL_IS_ACTIVE = 154,
    PROC_STORAGE_POOL_IS_PERSISTENT = 155,
    PROC_STORAGE_VOL_WIPE = 165,
    PROC_STORAGE_VOL_UPLOAD = 208,
    PROC_STORAGE_VOL_DOWNLOAD = 209,
    PROC_STORAGE_VOL_WIPE_PATTERN = 259,
    PROC_STORAGE_VOL_RESIZE = 260,
    PROC_CONNECT_LIST_ALL_STORAGE_POOLS = 281,
    PROC_STORAGE_POOL_LIST_ALL_VOLUMES = 282,
    PROC_DOMAIN_GET_SECURITY_LABEL = 121,
    PROC_NODE_GET_SECURITY_MODEL = 122,
    PROC_CONNECT_IS_SECURE = 149,
    PROC_DOMAIN_IS_ACTIVE = 150,
    PROC_DOMAIN_IS_PERSISTENT = 151,
    PROC_CONNECT_GET_LIB_VERSION = 157,
    PROC_DOMAIN_GET_JOB_INFO = 163,
    PROC_DOMAIN_ABORT_JOB = 164,
    PROC_DOMAIN_GET_JOB_STATS = 298,
    PROC_DOMAIN_ABORT_JOB_FLAGS = 442,
    PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY = 167,
    PROC_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY = 168,
    PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE = 183,
    PROC_DOMAIN_SNAPSHOT_NUM = 187,
    PROC_DOMAIN_CREATE_WITH_FLAGS = 196,
    PROC_DOMAIN_IS_UPDATED = 202,
    PROC_DOMAIN_OPEN_CONSOLE = 201,
    PROC_DOMAIN_GET_STATE = 212,
    PROC_DOMAIN_UNDEFINE_FLAGS = 231,
    PROC_DOMAIN_GET_HOSTNAME = 277,
    PROC_DOMAIN_GET_TIME = 337,
    PROC_DOMAIN_SET_TIME = 338,
    PROC_DOMAIN_GET_GUEST_INFO = 418,
    PROC_DOMAIN_DESTROY_FLAGS = 234,
    PROC_DOMAIN_RESET = 245,
    PROC_DOMAIN_SHUTDOWN_FLAGS = 258,
    PROC_CONNECT_LIST_ALL_DOMAINS = 273,
    PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY = 316,
    PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY = 317,
    PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE = 318,
    PROC_DOMAIN_EVENT_CALLBACK_REBOOT = 319,
    PROC_DOMAIN_DEFINE_XML_FLAGS = 350,
    PROC_CONNECT_REGISTER_CLOSE_CALLBACK = 360,
    PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK = 361,
    PROC_DOMAIN_GET_MESSAGES = 426,
};

/* Domus program */
enum rpc_domus_proc {
    DOMUS_PROC_VOL_JOB_INFO = 1,
    DOMUS_PROC_VOL_JOB_ABORT = 2,
};

/* QEMU program (src/remote/qemu_protocol.x) */
enum rpc_qemu_proc {
    QEMU_PROC_DOMAIN_MONITOR_COMMAND = 1,
    QEMU_PROC_DOMAIN_AGENT_COMMAND = 3,
};

/* virDrvFeature values asked through CONNECT_SUPPORTS_FEATURE */
enum rpc_feature {
    RPC_FEATURE_MIGRATION_V2 = 1,
    RPC_FEATURE_TYPED_PARAM_STRING = 9,
    RPC_FEATURE_PROGRAM_KEEPALIVE = 10,
    RPC_FEATURE_REMOTE_EVENT_CALLBACK = 14,
    RPC_FEATURE_REMOTE_CLOSE_CALLBACK = 15,
};

struct rpc_header {
    uint32_t prog;
    uint32_t vers;
    uint32_t proc;
    uint32_t type;
    uint32_t serial;
    uint32_t status;
};

/* remote_nonnull_domain */
struct rpc_domain {
    char *name;
    uint8_t uuid[UUID_LEN];
    int32_t id;
};

/* Starts a message in BUF: a length placeholder and the header. */
void rpc_message_begin(GByteArray *buf, const struct rpc_header *hdr);
/* Patches the length word. */
void rpc_message_end(GByteArray *buf);
/* Decodes the 24 header bytes after the length word. */
void rpc_header_decode(const uint8_t *p, struct rpc_header *ret_hdr);

void rpc_put_domain(GByteArray *buf, const char *name, const uint8_t uuid[UUID_LEN], int id);
/* Decodes a remote_nonnull_domain into RET (name newly allocated). */
void rpc_get_domain(struct xdr_reader *r, struct rpc_domain *ret);
void rpc_domain_clear(struct rpc_domain *dom);

/* Encodes ERROR as libvirt's remote_error: code, origin, message with libvirt's prefix for
 * the code ("Requested operation is not valid: …"), level 2. */
void rpc_put_error(GByteArray *buf, const GError *error);
/* Decodes a remote_error into a DOMUS_ERROR. */
GError *rpc_get_error(struct xdr_reader *r);

/* libvirt's message prefix for CODE ("Domain not found"), or NULL. */
const char *rpc_error_prefix(int code);
