/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def_priv: helpers shared by domain_def.c, domain_def_devices.c and
 * domain_def_format.c; prefix domain_def_. Not for use outside src/conf/domain_def*.c. */
#pragma once

#include <libxml/tree.h>

#include "conf/domain_def.h"

/* True for nodes that carry nothing: comments, processing instructions, blank text. */
gboolean domain_def_xml_ignorable(xmlNodePtr node);

/* True when NODE is the element NAME (in no namespace). */
gboolean domain_def_xml_is(xmlNodePtr node, const char *name);

/* Sets the error for a child of PARENT that is not understood: ERR_CONFIG_UNSUPPORTED
 * "unsupported element 'x' in 'parent'" or ERR_XML_ERROR for stray text. Returns FALSE. */
gboolean domain_def_xml_unsupported(xmlNodePtr parent, xmlNodePtr child, GError **error);

/* Checks that every attribute of NODE is in the NULL-terminated ALLOWED list. */
gboolean domain_def_xml_check_attrs(xmlNodePtr node, const char *const *allowed, GError **error);

/* Checks that NODE has no element children and no text (an empty element). */
gboolean domain_def_xml_check_empty(xmlNodePtr node, GError **error);

/* Records CHILD in *SLOT; ERR_XML_ERROR when *SLOT is already set (element given twice). */
gboolean domain_def_xml_once(xmlNodePtr *slot, xmlNodePtr child, GError **error);

/* The attribute NAME of NODE as a new string; NULL when absent. */
char *domain_def_xml_prop(xmlNodePtr node, const char *name);

/* Like domain_def_xml_prop, ERR_XML_ERROR when absent. */
char *domain_def_xml_prop_required(xmlNodePtr node, const char *name, GError **error);

/* The text content of NODE as a new string (never NULL); ERR_XML_ERROR when NODE has element
 * children. */
char *domain_def_xml_text(xmlNodePtr node, GError **error);

/* Attribute NAME of NODE looked up in the NULL-terminated NAMES; *RET gets its index. Absent:
 * *RET is left alone. Unknown value: ERR_CONFIG_UNSUPPORTED naming it. */
gboolean domain_def_xml_enum(xmlNodePtr node, const char *name, const char *const *names, int *ret,
                             GError **error);

/* Attribute NAME of NODE, "on" or "off", into *RET (YES, NO; unchanged when absent). */
gboolean domain_def_xml_on_off(xmlNodePtr node, const char *name, enum domain_tristate *ret,
                               GError **error);
/* Like domain_def_xml_enum, storing the value as a new string in *RET (freeing the old). */
gboolean domain_def_xml_choice(xmlNodePtr node, const char *name, const char *const *names,
                               char **ret, GError **error);

/* Attribute NAME as yes/no; absent: *RET is left alone. */
gboolean domain_def_xml_bool(xmlNodePtr node, const char *name, gboolean *ret, GError **error);

/* Attribute NAME as an unsigned number in MIN..MAX (decimal, or hex with 0x); absent: *RET is
 * left alone. Not a number: ERR_XML_ERROR; out of range: ERR_INVALID_ARG. */
gboolean domain_def_xml_uint(xmlNodePtr node, const char *name, uint64_t min, uint64_t max,
                             uint64_t *ret, GError **error);

/* Like domain_def_xml_uint for a signed number (ports where -1 means automatic). */
gboolean domain_def_xml_int(xmlNodePtr node, const char *name, int64_t min, int64_t max,
                            int64_t *ret, GError **error);

/* Parses an <address> element into *RET (ERR_XML_ERROR when one is already there). */
gboolean domain_def_address_parse(xmlNodePtr node, struct domain_address **ret, GError **error);

/* Parses <alias name='…'/> into *RET (ERR_XML_ERROR when one is already there). Which
 * aliases are kept is decided once the whole definition is read. */
gboolean domain_def_alias_parse(xmlNodePtr node, char **ret, GError **error);

/* Checks the aliases of DEF: a user's ("ua-…") must be well formed and unique; without
 * DOMAIN_DEF_PARSE_STATUS the others are dropped (runtime data of a previous start). */
gboolean domain_def_finish_aliases(struct domain_def *def, unsigned flags, GError **error);

/* Drops what a previous start left in DEF: probed backing chains, taps and their bridges. */
void domain_def_drop_runtime(struct domain_def *def);

/* Parses the child elements of <devices> into DEF. */
gboolean domain_def_devices_parse(struct domain_def *def, xmlNodePtr devices, GError **error);

/* Fills device defaults (controller indexes, serial for a console, ...) and checks
 * cross-device rules (duplicate disk targets, boot orders). */
gboolean domain_def_devices_finish(struct domain_def *def, GError **error);

/* Copies for g_ptr_array_copy-style use: (element, unused) -> new element. */
gpointer domain_def_disk_copy(gconstpointer src, gpointer unused);
gpointer domain_def_net_copy(gconstpointer src, gpointer unused);
gpointer domain_def_input_copy(gconstpointer src, gpointer unused);
gpointer domain_def_graphics_copy(gconstpointer src, gpointer unused);
gpointer domain_def_chr_copy(gconstpointer src, gpointer unused);
gpointer domain_def_video_copy(gconstpointer src, gpointer unused);
gpointer domain_def_sound_copy(gconstpointer src, gpointer unused);
gpointer domain_def_redirdev_copy(gconstpointer src, gpointer unused);
gpointer domain_def_controller_copy(gconstpointer src, gpointer unused);
gpointer domain_def_memballoon_copy(gconstpointer src, gpointer unused);
gpointer domain_def_rng_copy(gconstpointer src, gpointer unused);
struct domain_address *domain_def_address_copy(const struct domain_address *src);

void domain_def_disk_free(struct disk_def *disk);
void domain_def_input_free(struct input_def *input);
void domain_def_chr_free(struct chr_def *chr);
void domain_def_video_free(struct video_def *video);
void domain_def_sound_free(struct sound_def *sound);
/* ERR_INVALID_ARG unless KIB is between the smallest and largest memory a guest takes; WHAT
 * names it in the message ("memory"). */
gboolean domain_def_check_memory_range(const char *what, uint64_t kib, GError **error);
void domain_def_redirdev_free(struct redirdev_def *redirdev);
void domain_def_controller_free(struct controller_def *controller);
void domain_def_memballoon_free(struct memballoon_def *memballoon);
void domain_def_rng_free(struct rng_def *rng);

/* The names of enum chr_type, in order, NULL-terminated (one table for parse and format). */
extern const char *const domain_def_chr_type_names[];

/* The children every device may have, <alias> and <address>: *RET_HANDLED when CHILD was one
 * of them. */
/* An empty element whose attributes are all listed in ATTRS. */
gboolean domain_def_check_leaf(xmlNodePtr node, const char *const *attrs, GError **error);
/* <boot order='N'/> of a device into *RET (once per device). */
gboolean domain_def_parse_boot_order(xmlNodePtr node, unsigned *ret, GError **error);
/* The index of STR in the NULL-ended NAMES, or -1. */
int domain_def_enum_lookup(const char *const *names, const char *str);
/* Reads <memory>, <currentMemory>, <maxMemory> or a <memtune> limit (attributes ATTRS) into
 * KiB, rounded up as libvirt does. */
gboolean domain_def_parse_memory(xmlNodePtr node, const char *const *attrs, uint64_t *ret_kib,
                                 GError **error);
/* <features>, <cpu>, <clock>, <pm>, <perf> into DEF (domain_def_machine.c). */
gboolean domain_def_parse_features(struct domain_def *def, xmlNodePtr node, GError **error);
gboolean domain_def_parse_cpu(struct domain_def *def, xmlNodePtr node, GError **error);
gboolean domain_def_parse_clock(struct domain_def *def, xmlNodePtr node, GError **error);
gboolean domain_def_parse_pm(struct domain_def *def, xmlNodePtr node, GError **error);
gboolean domain_def_parse_perf(struct domain_def *def, xmlNodePtr node, GError **error);
/* <cputune>, <memtune>, <blkiotune> into DEF (domain_def_tune.c). */
gboolean domain_def_parse_cputune(struct domain_def *def, xmlNodePtr node, GError **error);
gboolean domain_def_parse_memtune(struct domain_def *def, xmlNodePtr node, GError **error);
gboolean domain_def_parse_numatune(struct domain_def *def, xmlNodePtr node, GError **error);
gboolean domain_def_parse_blkiotune(struct domain_def *def, xmlNodePtr node, GError **error);
/* A <disk> of <devices>, appended to DEF's disks (domain_def_disk.c). */
gboolean domain_def_parse_disk(struct domain_def *def, xmlNodePtr node, GError **error);
gboolean domain_def_parse_info_child(xmlNodePtr child, struct device_info *info,
                                     gboolean *ret_handled, GError **error);
/* LEVEL steps of two spaces. */
void domain_def_indent(GString *buf, int level);

/* domain_def_memory.c: <cpu><numa>, <memory model='dimm'>, and the totals once all is read
 * (CURRENT_GIVEN: <currentMemory> was in the XML). */
gboolean domain_def_numa_parse(struct domain_def *def, xmlNodePtr node, GError **error);
gboolean domain_def_memdev_parse(struct domain_def *def, xmlNodePtr node, GError **error);
gboolean domain_def_memory_finish(struct domain_def *def, gboolean current_given, GError **error);
void domain_def_numa_format(GString *buf, int level, const struct domain_def *def);
void domain_def_numa_cell_free(struct numa_cell_def *cell);
gpointer domain_def_numa_cell_copy(gconstpointer src, gpointer unused);
void domain_def_memdev_free(struct memdev_def *mem);
void domain_def_memnode_free(struct numa_memnode *m);
gpointer domain_def_memnode_copy(gconstpointer src, gpointer unused);
gpointer domain_def_memdev_copy(gconstpointer src, gpointer unused);
gboolean domain_def_iothreads_parse(struct domain_def *def, xmlNodePtr count, xmlNodePtr ids,
                                    GError **error);
/* Disks name IOThreads the domain has, on bus virtio only. */
gboolean domain_def_iothreads_check(const struct domain_def *def, GError **error);
void domain_def_iothreads_format(GString *buf, const struct domain_def *def);
/* <vcpus> (domain_def_vcpus.c): read after <vcpu>, checked as libvirt checks it for QEMU */
gboolean domain_def_vcpus_parse(struct domain_def *def, xmlNodePtr node, GError **error);
void domain_def_vcpus_format(GString *buf, const struct domain_def *def);
void domain_def_iothread_free(struct iothread_def *iothread);
gpointer domain_def_iothread_copy(gconstpointer src, gpointer unused);
gboolean domain_def_hostdev_parse(struct domain_def *def, xmlNodePtr node, GError **error);
/* No host device given twice (ERR_XML_ERROR). */
gboolean domain_def_hostdev_check(const struct domain_def *def, GError **error);
void domain_def_hostdev_free(struct hostdev_def *hostdev);
gpointer domain_def_hostdev_copy(gconstpointer src, gpointer unused);
