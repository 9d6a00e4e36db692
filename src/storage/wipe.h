/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* wipe: libvirt's volume wipe algorithms written natively, plus trim; prefix wipe_.
 * Pure blocking code on a path: the daemon runs it in a GTask worker thread. */
#pragma once

#include <glib.h>

/* libvirt's virStorageVolWipeAlgorithm values; they cross the wire as is.
 *
 * libvirt runs `scrub -f -p NAME PATH` for all but zero; the sequences below are scrub's
 * (chaos/scrub src/pattern.c, described in scrub(1)), so a volume wiped by Domus gets the
 * same bytes written, in the same order, as one wiped by libvirtd. "verify" is scrub's
 * PAT_VERIFY: write the pattern, then read the whole volume back and compare; it counts
 * as a pass of its own, which is how scrub(1) arrives at "4-pass" for nnsa and dod.
 *
 *   value name        passes  sequence
 *   0     zero          1     0x00
 *   1     nnsa          4     random, random, 0x00, verify           (NNSA NAP-14.1-C)
 *   2     dod           4     random, 0x00, 0xff, verify             (DoD 5220.22-M
 *                             8-306 (d); scrub puts the random pass first so that the
 *                             last pass is verifiable)
 *   3     bsi           9     0xff, 0xfe, 0xfd, 0xfb, 0xf7, 0xef, 0xdf, 0xbf, 0x7f
 *   4     gutmann      35     random x4, 0x55, 0xaa, 0x924924, 0x492492, 0x249249,
 *                             0x00, 0x11, 0x22, ... 0xff (16 passes), 0x924924,
 *                             0x492492, 0x249249, 0x6db6db, 0xb6db6d, 0xdb6db6, random x4
 *   5     schneier      7     0x00, 0xff, random x5        (Applied Cryptography, 1996)
 *   6     pfitzner7     7     random x7
 *   7     pfitzner33   33     random x33
 *   8     random        1     random
 *   9     trim          1     punch holes over the whole volume (Domus's own; libvirt's
 *                             local backends refuse it)
 *
 * Three-byte patterns repeat by absolute offset: byte o of the volume gets pat[o % 3].
 * Random data comes from xoshiro256** seeded from getrandom(2): fast, not
 * cryptographic; the point of a random pass is to leave no structure behind, not to be
 * unpredictable.
 *
 * Every algorithm but trim writes the volume's whole size (st_size, or a block device's
 * size) and keeps it; the bytes are replaced, so a wiped qcow2 is no longer a qcow2.
 * A sparse file becomes fully allocated, except with zero: its holes already read as
 * zeros, so zero writes only the allocated extents (libvirt truncates a sparse file to 0
 * and back instead, which frees the blocks without overwriting them).
 * On copy-on-write filesystems (btrfs, reflinked or snapshotted files) new writes go to
 * new blocks and the old ones are not reached; neither scrub nor libvirt can help that. */
enum wipe_algorithm {
    WIPE_ZERO = 0,
    WIPE_NNSA = 1,
    WIPE_DOD = 2,
    WIPE_BSI = 3,
    WIPE_GUTMANN = 4,
    WIPE_SCHNEIER = 5,
    WIPE_PFITZNER7 = 6,
    WIPE_PFITZNER33 = 7,
    WIPE_RANDOM = 8,
    WIPE_TRIM = 9,
    WIPE_ALGORITHM_LAST,
};

/* Called from the wiping thread after every chunk (at most a few MiB) with the bytes
 * done so far; TOTAL is the size times the number of passes (a verify counts as one).
 * DONE grows monotonically and ends at TOTAL on success. */
typedef void (*wipe_progress_fn)(gpointer user, guint64 done, guint64 total);

/* Wipes the file or block device at PATH with ALGORITHM (enum wipe_algorithm), calling
 * PROGRESS (may be NULL) with USER. A non-zero *CANCEL (CANCEL may be NULL), set from
 * any thread, stops the wipe before its next chunk; the volume is then partly
 * overwritten. Every pass ends with fdatasync. Blocking; never touches a main loop.
 * Errors: ERR_INVALID_ARG (unknown algorithm), ERR_OPERATION_INVALID (not a regular file
 * or block device), ERR_OPERATION_ABORTED (cancelled), ERR_OPERATION_UNSUPPORTED (trim
 * on a filesystem or device that cannot punch holes), ERR_OPERATION_FAILED (verify read
 * back something else), ERR_SYSTEM_ERROR (open, write, sync, read). */
gboolean wipe_run(const char *path, int algorithm, wipe_progress_fn progress, gpointer user,
                  volatile gint *cancel, GError **error);

/* The number of passes of ALGORITHM as counted in the table above; 0 if unknown. */
guint wipe_algorithm_passes(int algorithm);

/* "zero", "nnsa", ... "trim"; NULL for an unknown value. */
const char *wipe_algorithm_to_string(int algorithm);

/* The enum wipe_algorithm value named STR, or -1 if STR names none. */
int wipe_algorithm_from_string(const char *str);
