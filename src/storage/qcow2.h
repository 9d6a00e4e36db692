/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2: an empty qcow2 overlay written directly (QEMU docs/interop/qcow2.txt), as
 * 'qemu-img create -f qcow2 -F FMT -b BACKING' writes it, without starting qemu-img (about
 * 8 ms a disk: an external snapshot's overlays); prefix storage_qcow2_. Blocking I/O of a few
 * hundred KiB at most. */
#pragma once

#include <glib.h>

#include "storage/dir.h"

/* The size a guest sees of the image at PATH read as FORMAT: a qcow2 header's size field, a
 * raw file's or block device's size. Errors: ERR_OPERATION_INVALID (not a qcow2 image, an
 * encrypted one), ERR_NO_STORAGE_VOL (cannot be opened). */
gboolean storage_qcow2_virtual_size(const char *path, enum storage_format format, guint64 *ret,
                                    GError **error);

/* Writes into FD (a file opened for writing, new or empty; it is truncated) an empty qcow2
 * version 3 image of SIZE bytes (a multiple of 512) with 64 KiB clusters on BACKING (an
 * absolute path, at most 1023 bytes) of BACKING_FORMAT, then syncs it. PATH names FD in
 * errors. Errors: ERR_INVALID_ARG (size, name), ERR_SYSTEM_ERROR (I/O). */
gboolean storage_qcow2_write_overlay(int fd, const char *path, guint64 size, const char *backing,
                                     enum storage_format backing_format, GError **error);
