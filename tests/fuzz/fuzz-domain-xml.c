/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-domain-xml: domain XML from a client. What parses must format, and what it formats
 * must parse again to the same text (a definition that does not survive a restart is lost).
 * Then what define and start do with it: addresses (assigning twice changes nothing, and
 * what is assigned survives a restart), aliases, image numbers, the QEMU command line, and
 * the live definition read back as the daemon's status. The input is also read as a status
 * file (every alias and backing chain kept), and as one device of attach-device: added to a
 * definition, found again, formatted and parsed, removed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "conf/domain_def.h"
#include "conf/domain_device.h"
#include "qemu/address.h"
#include "qemu/alias.h"
#include "qemu/command.h"
#include "qemu/device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_fatal_criticals();
    return 0;
}

static char *
inactive(const struct domain_def *def)
{
    return domain_def_format(def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
}

/* define, then start */
static void
define_and_start(const struct domain_def *parsed)
{
    GError *error = NULL;
    struct domain_def *def = domain_def_copy(parsed);
    if (!qemu_address_assign(def, &error)) {
        g_clear_error(&error);
        domain_def_free(def);
        return;
    }
    g_autofree char *defined = inactive(def);
    struct domain_def *again = domain_def_parse(defined, 0, &error);
    if (!again || !qemu_address_assign(again, &error)) {
        fprintf(stderr, "a defined definition is refused after a restart: %s\n%s\n", error->message,
                defined);
        abort();
    }
    g_autofree char *defined2 = inactive(again);
    if (!g_str_equal(defined, defined2)) {
        fprintf(stderr, "assigning addresses again changed them:\n%s\n---\n%s\n", defined,
                defined2);
        abort();
    }
    domain_def_free(again);

    qemu_alias_assign(def);
    qemu_device_number_images(def);
    struct qemu_command_opts opts = {
        .emulator = "/usr/bin/qemu-system-x86_64",
        .channel_dir = "/run/domus/channel",
    };
    g_strfreev(qemu_command_build(def, &opts, &error));
    g_clear_error(&error);
    g_autofree char *live = domain_def_format(def, 3, DOMAIN_DEF_FORMAT_SECURE);
    struct domain_def *status = domain_def_parse(live, DOMAIN_DEF_PARSE_STATUS, &error);
    if (!status) {
        fprintf(stderr, "a live definition does not parse as status: %s\n%s\n", error->message,
                live);
        abort();
    }
    g_autofree char *live2 = domain_def_format(status, 3, DOMAIN_DEF_FORMAT_SECURE);
    if (!g_str_equal(live, live2)) {
        fprintf(stderr, "status round trip differs:\n%s\n---\n%s\n", live, live2);
        abort();
    }
    domain_def_free(status);
    domain_def_free(def);
}

static const char BASE[] =
    "<domain type='qemu'><name>f</name><maxMemory slots='2'>1048576</maxMemory>"
    "<memory>131072</memory><vcpu>1</vcpu>"
    "<cpu><numa><cell id='0' cpus='0' memory='131072'/></numa></cpu>"
    "<os><type machine='q35'>hvm</type></os><devices>"
    "<controller type='pci' model='pcie-root'/><controller type='pci' model='pcie-root-port'/>"
    "<disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/>"
    "</disk></devices></domain>";

/* attach-device's path through a definition: what is added is found again, the definition
 * holding it formats and parses, and it is removed */
static void
as_device(const char *xml)
{
    GError *error = NULL;
    struct device_def *dev = domain_device_parse(xml, &error);
    if (!dev) {
        g_clear_error(&error);
        return;
    }
    struct domain_def *def = domain_def_parse(BASE, 0, &error);
    g_assert(def);
    guint index = 0;
    if (domain_device_add(def, dev, &index, &error) && qemu_address_assign(def, &error)) {
        guint found = 0;
        if (!domain_device_find(def, dev, &found, &error)) {
            fprintf(stderr, "an added device is not found: %s\n%s\n", error->message, xml);
            abort();
        }
        g_autofree char *out = inactive(def);
        struct domain_def *again = domain_def_parse(out, 0, &error);
        if (!again) {
            fprintf(stderr, "a definition with an added device does not parse: %s\n%s\n",
                    error->message, out);
            abort();
        }
        domain_def_free(again);
        domain_device_remove(def, dev->kind, found);
    }
    g_clear_error(&error);
    domain_def_free(def);
    domain_device_free(dev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = g_strndup((const char *)data, size);
    GError *error = NULL;
    struct domain_def *def = domain_def_parse(xml, 0, &error);
    if (!def) {
        g_clear_error(&error);
        return 0;
    }
    g_autofree char *out =
        domain_def_format(def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
    g_free(domain_def_format(def, 7, 0)); /* the live form too */
    struct domain_def *again = domain_def_parse(out, 0, &error);
    if (!again) {
        fprintf(stderr, "formatted definition does not parse: %s\n%s\n", error->message, out);
        abort();
    }
    g_autofree char *out2 =
        domain_def_format(again, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
    if (!g_str_equal(out, out2)) {
        fprintf(stderr, "round trip differs:\n%s\n---\n%s\n", out, out2);
        abort();
    }
    struct domain_def *copy = domain_def_copy(def);
    domain_def_free(copy);
    define_and_start(def);
    domain_def_free(again);
    domain_def_free(def);

    struct domain_def *status = domain_def_parse(xml, DOMAIN_DEF_PARSE_STATUS, &error);
    if (status) {
        g_free(domain_def_format(status, 7, 0));
        domain_def_free(status);
    }
    g_clear_error(&error);
    as_device(xml);
    return 0;
}
