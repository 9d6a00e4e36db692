/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checkpoint_def: libvirt's domain checkpoint XML (<domaincheckpoint>) and backup XML
 * (<domainbackup>): parse, format; prefixes checkpoint_def_ and backup_def_. What a client
 * gives and what the daemon keeps are one model each; REDEFINE reads the checkpoint fields
 * only the daemon sets. Which disks take part is settled against a domain by the core. */
#pragma once

#include <glib.h>

#include "conf/domain_def.h"

struct checkpoint_disk {
    char *name;      /* the disk's target ("vda") */
    gboolean bitmap; /* checkpoint='bitmap' (the default in a listed disk), else 'no' */
    char *bitmap_name;
    guint64 size; /* with CHECKPOINT_DEF_FORMAT_SIZE: bytes changed since the checkpoint */
};

struct checkpoint_def {
    char *name; /* NULL at create time: the daemon names it (its creation time) */
    char *description;
    char *parent; /* the parent checkpoint's name; NULL for a root */
    gint64 creation_time;
    GPtrArray *disks;       /* struct checkpoint_disk * */
    struct domain_def *dom; /* the domain's inactive definition then; may be NULL */
};

enum {
    /* read what only the daemon writes: parent, creationTime, the domain */
    CHECKPOINT_DEF_PARSE_REDEFINE = 1 << 0,
};

/* virDomainCheckpointXMLFlags */
enum {
    CHECKPOINT_DEF_FORMAT_SECURE = 1 << 0,
    CHECKPOINT_DEF_FORMAT_NO_DOMAIN = 1 << 1,
    CHECKPOINT_DEF_FORMAT_SIZE = 1 << 2,
};

/* Parses XML. Unknown elements are ERR_CONFIG_UNSUPPORTED naming them; a bad name or value
 * ERR_XML_ERROR. Origin ERR_FROM_DOMAIN_CHECKPOINT. */
struct checkpoint_def *checkpoint_def_parse(const char *xml, unsigned flags, GError **error);
char *checkpoint_def_format(const struct checkpoint_def *def, unsigned flags);
void checkpoint_def_free(struct checkpoint_def *def);
typedef struct checkpoint_def checkpoint_def;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(checkpoint_def, checkpoint_def_free)
void checkpoint_disk_free(struct checkpoint_disk *disk);
/* The disk entry for TARGET, or NULL. */
struct checkpoint_disk *checkpoint_def_disk(const struct checkpoint_def *def, const char *target);

/* --- backups --- */

enum backup_mode { BACKUP_MODE_DEFAULT, BACKUP_MODE_FULL, BACKUP_MODE_INCREMENTAL };

struct backup_disk {
    char *name;      /* the disk's target */
    gboolean backup; /* backup='yes' (the default in a listed disk) */
    enum backup_mode mode;
    char *incremental;               /* the checkpoint it starts from (NULL: the backup's) */
    gboolean block;                  /* type='block': TARGET is a device */
    char *target;                    /* push: <target file|dev>; pull: <scratch file|dev> */
    char *format;                    /* <driver type>; NULL: qcow2 */
    char *exportname, *exportbitmap; /* pull */
    unsigned index;                  /* the target's block node number, once attached */
};

struct backup_def {
    gboolean pull;     /* mode='pull' */
    char *incremental; /* <incremental>: the checkpoint every disk starts from */
    /* pull: where QEMU serves the disks over NBD, <server transport name port socket/>:
     * SERVER_SOCKET (transport unix) or SERVER_NAME and SERVER_PORT (tcp) */
    gboolean server_unix;
    gboolean server_tls; /* tls='yes': NBD over TLS */
    char *server_name, *server_socket;
    guint server_port;
    GPtrArray *disks; /* struct backup_disk * */
};

/* Parses XML (origin ERR_FROM_DOMAIN): unknown elements are ERR_CONFIG_UNSUPPORTED, bad values
 * ERR_XML_ERROR. */
struct backup_def *backup_def_parse(const char *xml, GError **error);
/* As backup-dumpxml shows a running backup: every disk, the ones backed up with their
 * target and node number. */
char *backup_def_format(const struct backup_def *def);
void backup_def_free(struct backup_def *def);
typedef struct backup_def backup_def;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(backup_def, backup_def_free)
void backup_disk_free(struct backup_disk *disk);
struct backup_disk *backup_def_disk(const struct backup_def *def, const char *target);
