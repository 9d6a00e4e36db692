/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-saveimage: a save image file as restore, save-image-dumpxml and save-image-define read
 * it: the header and data checks (qemu_saveimage_read), the definition it holds parsed as
 * restore parses it, and an in-place rewrite of that definition. The input is the file. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf/domain_def.h"
#include "fuzz_common.h"
#include "qemu/saveimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_fatal_criticals();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-saveimage", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    struct qemu_saveimage img = {0};
    GError *error = NULL;
    if (qemu_saveimage_read(fd, "fuzz.save", &img, &error)) {
        struct domain_def *def = domain_def_parse(img.xml, 0, &error);
        if (def) {
            char *xml = domain_def_format(def, -1, DOMAIN_DEF_FORMAT_SECURE);
            if (!qemu_saveimage_rewrite(fd, "fuzz.save", &img, xml, -1, &error))
                g_clear_error(&error);
            g_free(xml);
            domain_def_free(def);
        } else {
            g_clear_error(&error);
        }
        qemu_saveimage_clear(&img);
    } else {
        g_clear_error(&error);
    }
    close(fd);
    return 0;
}
