/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter: the program a compressed save image's stream goes through; prefix qemu_filter_.
 * libvirt writes QEMU's stream through `gzip -c` (`bzip2 -c`, `xz -c -3`, `lzop -c`) when
 * qemu.conf's save_image_format names one, records it in the image's header, and restores
 * through `PROGRAM -dc`; domusd does the same (domusd.conf's [qemu] save_image_format), so
 * either restores the other's compressed images. QEMU reads or writes a pipe whose other end
 * is the program's; the image's descriptor is the program's other side. */
#pragma once

#include <glib.h>

struct qemu_filter;

/* Starts the program of COMPRESSION (a qemu_saveimage_compression other than raw): with
 * DECOMPRESS it reads IMAGE_FD from its offset (the program's descriptor shares that offset
 * with IMAGE_FD: where it has read to is the progress) and *RET_FD is the pipe end QEMU reads;
 * else it writes into IMAGE_FD from its offset and *RET_FD is the end QEMU writes. *RET_FD is
 * the caller's to close once QEMU has it. A program that is not installed or cannot run:
 * ERR_OPERATION_FAILED naming it and PATH (the image). The program dies with the daemon. */
struct qemu_filter *qemu_filter_start(guint32 compression, gboolean decompress, int image_fd,
                                      const char *path, int *ret_fd, GError **error);

/* Whether the program of COMPRESSION (raw: none needed) is installed; else
 * ERR_OPERATION_FAILED as qemu_filter_start says it. A check before the work begins. */
gboolean qemu_filter_available(guint32 compression, gboolean decompress, const char *path,
                               GError **error);

typedef void (*qemu_filter_done_fn)(GError *error, gpointer data);

/* DONE hears once the program has exited: NULL when it succeeded, else ERR_OPERATION_FAILED
 * (not the callee's to free) naming the program, the image and what it wrote to stderr. At most
 * one wait per filter; it may run before this returns. */
void qemu_filter_wait(struct qemu_filter *f, qemu_filter_done_fn done, gpointer data);

/* Stops any wait (its DONE is not called), kills the program if it still runs, frees F.
 * NULL is fine. */
void qemu_filter_free(struct qemu_filter *f);
