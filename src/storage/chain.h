/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chain: the backing chain of a disk image, read from the images' headers; prefix
 * storage_chain_. Blocking reads of a few hundred bytes per image. */
#pragma once

#include <glib.h>

#include "storage/dir.h"

#define STORAGE_CHAIN_MAX 200 /* images below a top image, as libvirt's limit */

struct storage_chain_layer {
    char *path; /* as resolved: absolute */
    enum storage_format format;
    gboolean block; /* a block device, not a file */
};

void storage_chain_layer_free(struct storage_chain_layer *layer);

/* The images below the image at PATH, read as FORMAT: for qcow2 the backing file its header
 * names (a relative name resolves against the directory of the image that names it) with
 * the format the header records; recursively, down to an image without backing. A backing
 * image whose format the header does not record is refused (ERR_OPERATION_INVALID, saying
 * how to record it), as libvirt refuses it: probing would let whoever writes a raw image
 * decide what the host opens. Errors also for a loop, a chain deeper than STORAGE_CHAIN_MAX,
 * a backing name QEMU would read as a protocol ("json:", "nbd://") and an unreadable image
 * (ERR_NO_STORAGE_VOL). Returns a new array of struct storage_chain_layer, the image right
 * below PATH first; empty for none. */
GPtrArray *storage_chain_probe(const char *path, enum storage_format format, GError **error);
