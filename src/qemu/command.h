/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* command: a domain definition -> QEMU argv; prefix qemu_command_. The only place that knows
 * how configuration maps to QEMU's command line. */
#pragma once

#include <glib.h>

#include "conf/domain_def.h"

/* The monitor socket is passed to QEMU as this fd (the first of qemu_process_fork's). */
#define QEMU_COMMAND_MONITOR_FD 3

struct qemu_command_opts {
    const char *emulator;    /* resolved binary path */
    gboolean kvm;            /* accel kvm (else tcg) */
    const char *channel_dir; /* where unix channels without a path get their socket */
    GHashTable *chardev_fds; /* chardev id ("char" + alias) -> the fd number QEMU inherits
                              * its listening socket as (GINT_TO_POINTER); may be NULL */
    GHashTable *tap_fds;     /* interface alias -> the fd number QEMU inherits its tap as */
    gboolean incoming;       /* -incoming defer: QEMU waits for migrate-incoming (restore) */
    const char *loadvm;      /* -loadvm: start from this internal snapshot; NULL: boot */
    const char *disk_aio;    /* the I/O engine of disks whose <driver io> names none (NULL:
                              * QEMU's default, threads) */
};

/* Builds argv (argv[0] = emulator). Rejects what this driver cannot run with
 * ERR_CONFIG_UNSUPPORTED naming it (e.g. interface type 'network'). Returns a new GStrv. */
GStrv qemu_command_build(const struct domain_def *def, const struct qemu_command_opts *opts,
                         GError **error);

/* The machine type used for DEF: its own or the default "pc". */
const char *qemu_command_machine(const struct domain_def *def);

/* True for a unix character device QEMU listens on (source mode 'bind' or none), whose
 * socket the daemon may make and pass (qemu_command_opts.chardev_fds). */
gboolean qemu_command_chardev_listens(const struct chr_def *chr);

/* The socket path of a unix channel without a source path. Returns a new string. */
char *qemu_command_channel_path(const struct domain_def *def, const struct chr_def *chr,
                                const char *channel_dir);

/* The value of QEMU's -name option for a domain NAME (commas doubled, as QEMU's option syntax
 * wants): also how a running QEMU is recognized as that domain's. New string. */
char *qemu_command_name_arg(const char *name);
