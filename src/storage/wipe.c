/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* wipe: overwrite a volume with scrub's pattern sequences, or punch it out (trim);
 * prefix wipe_. The sequences and their sources are documented in wipe.h. */
#include "storage/wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"
#include "util/file.h"

/* One write is one chunk of the buffer. Its size is a multiple of 3, so that three-byte
 * patterns continue across chunks (chunk k starts at offset k * WIPE_BUF_SIZE, which is
 * pattern phase 0), and of WIPE_ALIGN, so that O_DIRECT accepts it. */
enum {
    WIPE_ALIGN = 4096,
    WIPE_BUF_SIZE = 3 * 1024 * 1024,
    /* Punching a hole is a metadata operation; chunks only bound the time between
     * progress reports and cancel checks. */
    WIPE_TRIM_CHUNK = 256 * 1024 * 1024,
};

enum wipe_pass_kind {
    PASS_PATTERN,
    PASS_RANDOM,
    /* write the pattern, sync, read everything back and compare (scrub's PAT_VERIFY) */
    PASS_VERIFY,
};

/* REPEAT consecutive passes of one kind; LEN bytes of PAT repeat over the volume. */
struct wipe_step {
    unsigned char kind;
    unsigned char repeat;
    unsigned char len;
    unsigned char pat[3];
};

/* Transcribed from scrub's src/pattern.c (chaos/scrub); see the table in wipe.h. */
static const struct wipe_step zero_steps[] = {
    {PASS_PATTERN, 1, 1, {0x00}},
};

static const struct wipe_step nnsa_steps[] = {
    {PASS_RANDOM, 2, 0, {0}},
    {PASS_VERIFY, 1, 1, {0x00}},
};

static const struct wipe_step dod_steps[] = {
    {PASS_RANDOM, 1, 0, {0}},
    {PASS_PATTERN, 1, 1, {0x00}},
    {PASS_VERIFY, 1, 1, {0xff}},
};

static const struct wipe_step bsi_steps[] = {
    {PASS_PATTERN, 1, 1, {0xff}}, {PASS_PATTERN, 1, 1, {0xfe}}, {PASS_PATTERN, 1, 1, {0xfd}},
    {PASS_PATTERN, 1, 1, {0xfb}}, {PASS_PATTERN, 1, 1, {0xf7}}, {PASS_PATTERN, 1, 1, {0xef}},
    {PASS_PATTERN, 1, 1, {0xdf}}, {PASS_PATTERN, 1, 1, {0xbf}}, {PASS_PATTERN, 1, 1, {0x7f}},
};

static const struct wipe_step gutmann_steps[] = {
    {PASS_RANDOM, 4, 0, {0}},
    {PASS_PATTERN, 1, 1, {0x55}},
    {PASS_PATTERN, 1, 1, {0xaa}},
    {PASS_PATTERN, 1, 3, {0x92, 0x49, 0x24}},
    {PASS_PATTERN, 1, 3, {0x49, 0x24, 0x92}},
    {PASS_PATTERN, 1, 3, {0x24, 0x92, 0x49}},
    {PASS_PATTERN, 1, 1, {0x00}},
    {PASS_PATTERN, 1, 1, {0x11}},
    {PASS_PATTERN, 1, 1, {0x22}},
    {PASS_PATTERN, 1, 1, {0x33}},
    {PASS_PATTERN, 1, 1, {0x44}},
    {PASS_PATTERN, 1, 1, {0x55}},
    {PASS_PATTERN, 1, 1, {0x66}},
    {PASS_PATTERN, 1, 1, {0x77}},
    {PASS_PATTERN, 1, 1, {0x88}},
    {PASS_PATTERN, 1, 1, {0x99}},
    {PASS_PATTERN, 1, 1, {0xaa}},
    {PASS_PATTERN, 1, 1, {0xbb}},
    {PASS_PATTERN, 1, 1, {0xcc}},
    {PASS_PATTERN, 1, 1, {0xdd}},
    {PASS_PATTERN, 1, 1, {0xee}},
    {PASS_PATTERN, 1, 1, {0xff}},
    {PASS_PATTERN, 1, 3, {0x92, 0x49, 0x24}},
    {PASS_PATTERN, 1, 3, {0x49, 0x24, 0x92}},
    {PASS_PATTERN, 1, 3, {0x24, 0x92, 0x49}},
    {PASS_PATTERN, 1, 3, {0x6d, 0xb6, 0xdb}},
    {PASS_PATTERN, 1, 3, {0xb6, 0xdb, 0x6d}},
    {PASS_PATTERN, 1, 3, {0xdb, 0x6d, 0xb6}},
    {PASS_RANDOM, 4, 0, {0}},
};

static const struct wipe_step schneier_steps[] = {
    {PASS_PATTERN, 1, 1, {0x00}},
    {PASS_PATTERN, 1, 1, {0xff}},
    {PASS_RANDOM, 5, 0, {0}},
};

static const struct wipe_step pfitzner7_steps[] = {
    {PASS_RANDOM, 7, 0, {0}},
};

static const struct wipe_step pfitzner33_steps[] = {
    {PASS_RANDOM, 33, 0, {0}},
};

static const struct wipe_step random_steps[] = {
    {PASS_RANDOM, 1, 0, {0}},
};

struct wipe_sequence {
    const struct wipe_step *steps;
    gsize n_steps;
};

/* Trim has no steps: it is not a sequence of overwrites. */
static const struct wipe_sequence sequences[WIPE_ALGORITHM_LAST] = {
    [WIPE_ZERO] = {zero_steps, G_N_ELEMENTS(zero_steps)},
    [WIPE_NNSA] = {nnsa_steps, G_N_ELEMENTS(nnsa_steps)},
    [WIPE_DOD] = {dod_steps, G_N_ELEMENTS(dod_steps)},
    [WIPE_BSI] = {bsi_steps, G_N_ELEMENTS(bsi_steps)},
    [WIPE_GUTMANN] = {gutmann_steps, G_N_ELEMENTS(gutmann_steps)},
    [WIPE_SCHNEIER] = {schneier_steps, G_N_ELEMENTS(schneier_steps)},
    [WIPE_PFITZNER7] = {pfitzner7_steps, G_N_ELEMENTS(pfitzner7_steps)},
    [WIPE_PFITZNER33] = {pfitzner33_steps, G_N_ELEMENTS(pfitzner33_steps)},
    [WIPE_RANDOM] = {random_steps, G_N_ELEMENTS(random_steps)},
};

static const char *const algorithm_names[] = {
    "zero",     "nnsa",      "dod",        "bsi",    "gutmann",
    "schneier", "pfitzner7", "pfitzner33", "random", "trim",
};
G_STATIC_ASSERT(G_N_ELEMENTS(algorithm_names) == WIPE_ALGORITHM_LAST);

const char *
wipe_algorithm_to_string(int algorithm)
{
    if (algorithm < 0 || algorithm >= WIPE_ALGORITHM_LAST)
        return NULL;
    return algorithm_names[algorithm];
}

int
wipe_algorithm_from_string(const char *str)
{
    for (int i = 0; str && i < WIPE_ALGORITHM_LAST; i++) {
        if (g_str_equal(algorithm_names[i], str))
            return i;
    }
    return -1;
}

guint
wipe_algorithm_passes(int algorithm)
{
    if (algorithm < 0 || algorithm >= WIPE_ALGORITHM_LAST)
        return 0;
    if (algorithm == WIPE_TRIM)
        return 1;
    const struct wipe_sequence *seq = &sequences[algorithm];
    guint n = 0;
    for (gsize i = 0; i < seq->n_steps; i++)
        n += seq->steps[i].repeat + (seq->steps[i].kind == PASS_VERIFY ? 1 : 0);
    return n;
}

struct wipe_job {
    const char *path;
    int fd;
    /* O_DIRECT is on; off for the odd tail, and for good after an EINVAL */
    gboolean direct;
    gboolean regular;
    guint64 size;
    guint64 done;
    guint64 total;
    wipe_progress_fn progress;
    gpointer user;
    volatile gint *cancel;
    guint64 rng[4];
    guint8 *buf;   /* WIPE_BUF_SIZE bytes, WIPE_ALIGN aligned: what a pass writes */
    guint8 *check; /* the same for verify's reads; allocated on first use */
};

static void
wipe_job_clear(struct wipe_job *job)
{
    file_close_fd(&job->fd);
    g_aligned_free(job->buf);
    g_aligned_free(job->check);
    /* the generator state would let one recompute the random passes */
    explicit_bzero(job->rng, sizeof(job->rng));
}

/* xoshiro256** (Blackman and Vigna, https://prng.di.unimi.it/xoshiro256starstar.c):
 * several GB/s, so random passes run at the speed of the disk. */
static inline guint64
rotl64(guint64 x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline guint64
rng_next(guint64 s[4])
{
    guint64 result = rotl64(s[1] * 5, 7) * 9;
    guint64 t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

static gboolean
rng_seed(struct wipe_job *job, GError **error)
{
    guint8 *p = (guint8 *)job->rng;
    gsize left = sizeof(job->rng);
    while (left > 0) {
        ssize_t n = getrandom(p, left, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set_errno(error, ERR_FROM_STORAGE, errno,
                          "cannot seed the random generator for wiping '%s'", job->path);
            return FALSE;
        }
        p += n;
        left -= n;
    }
    /* the one state xoshiro cannot leave */
    if (!(job->rng[0] | job->rng[1] | job->rng[2] | job->rng[3]))
        job->rng[0] = 1;
    return TRUE;
}

static void
fill_random(struct wipe_job *job, guint8 *buf, gsize len)
{
    gsize i = 0;
    for (; i + 8 <= len; i += 8) {
        guint64 v = rng_next(job->rng);
        memcpy(buf + i, &v, 8);
    }
    if (i < len) {
        /* the odd tail, or it would keep bytes of the previous pass */
        guint64 v = rng_next(job->rng);
        memcpy(buf + i, &v, len - i);
    }
}

static void
fill_pattern(guint8 *buf, gsize len, const struct wipe_step *step)
{
    if (step->len == 1) {
        memset(buf, step->pat[0], len);
        return;
    }
    for (gsize i = 0; i < len; i++)
        buf[i] = step->pat[i % step->len];
}

static gboolean
check_cancel(struct wipe_job *job, GError **error)
{
    if (job->cancel && g_atomic_int_get(job->cancel)) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_ABORTED,
                "wiping '%s' was aborted; the volume is partly overwritten", job->path);
        return FALSE;
    }
    return TRUE;
}

static void
advance(struct wipe_job *job, guint64 n)
{
    job->done += n;
    if (job->progress)
        job->progress(job->user, job->done, job->total);
}

static gboolean
set_direct(struct wipe_job *job, gboolean on, GError **error)
{
    int flags = fcntl(job->fd, F_GETFL);
    if (flags >= 0)
        flags = fcntl(job->fd, F_SETFL, on ? flags | O_DIRECT : flags & ~O_DIRECT);
    if (flags < 0) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot switch direct I/O on '%s'",
                      job->path);
        return FALSE;
    }
    job->direct = on;
    return TRUE;
}

/* pwrite or pread of the whole range, resuming after short transfers. Where O_DIRECT
 * refuses an offset or a filesystem refuses it altogether (EINVAL), buffered I/O does the
 * rest of the job. */
static gboolean
transfer(struct wipe_job *job, gboolean writing, guint8 *buf, gsize len, guint64 off,
         GError **error)
{
    while (len > 0) {
        ssize_t n =
            writing ? pwrite(job->fd, buf, len, (off_t)off) : pread(job->fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EINVAL && job->direct) {
            if (!set_direct(job, FALSE, error))
                return FALSE;
            continue;
        }
        if (n < 0) {
            err_set_errno(error, ERR_FROM_STORAGE, errno,
                          "cannot %s '%s' at offset %" G_GUINT64_FORMAT,
                          writing ? "write to" : "read", job->path, off);
            return FALSE;
        }
        if (n == 0 && writing) {
            err_set_errno(error, ERR_FROM_STORAGE, ENOSPC,
                          "cannot write to '%s' at offset %" G_GUINT64_FORMAT, job->path, off);
            return FALSE;
        }
        if (n == 0) {
            err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_FAILED,
                    "'%s' shrank to %" G_GUINT64_FORMAT " bytes while being wiped", job->path, off);
            return FALSE;
        }
        buf += n;
        len -= n;
        off += n;
    }
    return TRUE;
}

/* One chunk. O_DIRECT takes whole blocks only, so the tail of an odd-sized volume goes
 * through the page cache, and the next pass is direct again. */
static gboolean
transfer_chunk(struct wipe_job *job, gboolean writing, guint8 *buf, gsize len, guint64 off,
               GError **error)
{
    gsize tail = job->direct ? len % WIPE_ALIGN : 0;
    gsize head = len - tail;
    if (!transfer(job, writing, buf, head, off, error))
        return FALSE;
    if (tail == 0)
        return TRUE;
    if (!job->direct) /* given up on during the head */
        return transfer(job, writing, buf + head, tail, off + head, error);
    return set_direct(job, FALSE, error) &&
           transfer(job, writing, buf + head, tail, off + head, error) &&
           set_direct(job, TRUE, error);
}

/* Data ends where the pass writes, from OFF on: [*ret_data, *ret_end). A hole reads as
 * zeros already, so a zero pass need not write it (and must not allocate it). Without
 * SEEK_DATA support the whole rest is data. */
static void
next_data(struct wipe_job *job, guint64 off, guint64 *ret_data, guint64 *ret_end)
{
    off_t data = lseek(job->fd, (off_t)off, SEEK_DATA);
    if (data < 0) {
        *ret_data = errno == ENXIO ? job->size : off;
        *ret_end = job->size;
        return;
    }
    off_t hole = lseek(job->fd, data, SEEK_HOLE);
    *ret_data = MIN((guint64)data, job->size);
    *ret_end = hole < 0 ? job->size : MIN((guint64)hole, job->size);
}

static gboolean
write_pass(struct wipe_job *job, const struct wipe_step *step, GError **error)
{
    gboolean is_random = step->kind == PASS_RANDOM;
    gboolean skip_holes = job->regular && !is_random && step->len == 1 && step->pat[0] == 0;
    if (!is_random)
        fill_pattern(job->buf, WIPE_BUF_SIZE, step);

    guint64 off = 0;
    while (off < job->size) {
        guint64 end = job->size;
        if (skip_holes) {
            guint64 data;
            next_data(job, off, &data, &end);
            if (data > off)
                advance(job, data - off);
            off = data;
        }
        /* Chunks start at OFF plus multiples of WIPE_BUF_SIZE; OFF is 0 unless this is a
         * zero pass, whose pattern has no phase. */
        while (off < end) {
            if (!check_cancel(job, error))
                return FALSE;
            gsize len = MIN(end - off, (guint64)WIPE_BUF_SIZE);
            if (is_random)
                fill_random(job, job->buf, len);
            if (!transfer_chunk(job, TRUE, job->buf, len, off, error))
                return FALSE;
            off += len;
            advance(job, len);
        }
    }
    return TRUE;
}

static gboolean
sync_pass(struct wipe_job *job, GError **error)
{
    if (fdatasync(job->fd) < 0) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot sync '%s'", job->path);
        return FALSE;
    }
    /* Buffered writes (all of them without O_DIRECT, the odd tail with it) leave the
     * volume in the page cache: drop it, so that the daemon does not evict everything
     * else and verify reads what reached the disk. */
    posix_fadvise(job->fd, 0, 0, POSIX_FADV_DONTNEED);
    return TRUE;
}

/* Reads the volume back and compares it with the pattern still in job->buf. */
static gboolean
verify_pass(struct wipe_job *job, GError **error)
{
    if (!job->check)
        job->check = g_aligned_alloc(1, WIPE_BUF_SIZE, WIPE_ALIGN);
    for (guint64 off = 0; off < job->size;) {
        if (!check_cancel(job, error))
            return FALSE;
        gsize len = MIN(job->size - off, (guint64)WIPE_BUF_SIZE);
        if (!transfer_chunk(job, FALSE, job->check, len, off, error))
            return FALSE;
        if (memcmp(job->check, job->buf, len) != 0) {
            gsize i = 0;
            while (job->check[i] == job->buf[i])
                i++;
            err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_FAILED,
                    "verifying '%s' failed: byte %" G_GUINT64_FORMAT
                    " reads 0x%02x after writing 0x%02x",
                    job->path, off + i, job->check[i], job->buf[i]);
            return FALSE;
        }
        off += len;
        advance(job, len);
    }
    return TRUE;
}

static gboolean
run_sequence(struct wipe_job *job, const struct wipe_sequence *seq, GError **error)
{
    job->buf = g_aligned_alloc(1, WIPE_BUF_SIZE, WIPE_ALIGN);
    for (gsize i = 0; i < seq->n_steps; i++) {
        const struct wipe_step *step = &seq->steps[i];
        for (guint r = 0; r < step->repeat; r++) {
            if (!write_pass(job, step, error) || !sync_pass(job, error))
                return FALSE;
        }
        if (step->kind == PASS_VERIFY && !verify_pass(job, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
run_trim(struct wipe_job *job, GError **error)
{
    for (guint64 off = 0; off < job->size;) {
        if (!check_cancel(job, error))
            return FALSE;
        guint64 len = MIN(job->size - off, (guint64)WIPE_TRIM_CHUNK);
        int rc =
            fallocate(job->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            if (errno == EOPNOTSUPP) {
                err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_UNSUPPORTED,
                        "cannot trim '%s': its filesystem or device cannot punch holes; "
                        "use another algorithm",
                        job->path);
            } else {
                err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot trim '%s'", job->path);
            }
            return FALSE;
        }
        off += len;
        advance(job, len);
    }
    return sync_pass(job, error);
}

/* Opens PATH for writing, with O_DIRECT where the filesystem takes it (tmpfs before Linux 6.6 does
 * not), and learns its size. */
static gboolean
wipe_open(struct wipe_job *job, GError **error)
{
    int flags = O_RDWR | O_CLOEXEC | O_NOCTTY;
    job->fd = open(job->path, flags | O_DIRECT);
    job->direct = job->fd >= 0;
    if (job->fd < 0 && errno == EINVAL)
        job->fd = open(job->path, flags);
    if (job->fd < 0) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot open volume '%s'", job->path);
        return FALSE;
    }

    struct stat st;
    if (fstat(job->fd, &st) < 0) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot stat volume '%s'", job->path);
        return FALSE;
    }
    if (S_ISREG(st.st_mode)) {
        job->regular = TRUE;
        job->size = st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(job->fd, 0, SEEK_END);
        if (end < 0) {
            err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot get the size of '%s'", job->path);
            return FALSE;
        }
        job->size = end;
    } else {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "cannot wipe '%s': not a regular file or block device", job->path);
        return FALSE;
    }
    return TRUE;
}

gboolean
wipe_run(const char *path, int algorithm, wipe_progress_fn progress, gpointer user,
         volatile gint *cancel, GError **error)
{
    if (algorithm < 0 || algorithm >= WIPE_ALGORITHM_LAST) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "unknown wipe algorithm %d", algorithm);
        return FALSE;
    }

    struct wipe_job job = {
        .path = path,
        .fd = -1,
        .progress = progress,
        .user = user,
        .cancel = cancel,
    };
    gboolean ok = wipe_open(&job, error);
    if (ok) {
        job.total = job.size * wipe_algorithm_passes(algorithm);
        if (algorithm == WIPE_TRIM)
            ok = run_trim(&job, error);
        else
            ok = rng_seed(&job, error) && run_sequence(&job, &sequences[algorithm], error);
    }
    if (ok && job.total == 0 && progress)
        progress(user, 0, 0);
    wipe_job_clear(&job);
    return ok;
}
