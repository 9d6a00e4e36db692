/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def: libvirt domain XML -> validated model -> XML; prefix domain_def_.
 * Pure: no sockets, no QEMU, no daemon state. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "conf/bandwidth.h"
#include "conf/vlan.h"
#include "util/perfevent.h"
#include "util/uuid.h"

/* Limits checked by domain_def_parse. */
#define DOMAIN_DEF_MEMORY_MIN_KIB (4ULL * 1024)                /* 4 MiB */
#define DOMAIN_DEF_MEMORY_MAX_KIB (16ULL * 1024 * 1024 * 1024) /* 16 TiB */
#define DOMAIN_DEF_VCPUS_MAX 1024

enum domain_virt_type { DOMAIN_VIRT_QEMU, DOMAIN_VIRT_KVM };

enum domain_action {
    DOMAIN_ACTION_DESTROY,
    DOMAIN_ACTION_RESTART,
    DOMAIN_ACTION_PRESERVE,
    DOMAIN_ACTION_RENAME_RESTART,
    DOMAIN_ACTION_COREDUMP_DESTROY,
    DOMAIN_ACTION_COREDUMP_RESTART,
};

enum domain_boot_dev { DOMAIN_BOOT_HD, DOMAIN_BOOT_CDROM, DOMAIN_BOOT_NETWORK, DOMAIN_BOOT_FD };

enum domain_tristate { DOMAIN_TRISTATE_ABSENT, DOMAIN_TRISTATE_YES, DOMAIN_TRISTATE_NO };

/* A generic <address type='…' k='v' …/>: kept attribute by attribute, in document order,
 * so that what libvirt hands back can be defined again unchanged. */
struct domain_address {
    char *type; /* "pci", "drive", "usb", … */
    GStrv keys; /* attribute names other than type */
    GStrv values;
};

/* A PCI address as numbers; MULTI is multifunction='on'/'off' (ABSENT: not given). */
struct pci_address {
    unsigned domain, bus, slot, function;
    enum domain_tristate multi;
};

#define PCI_ADDRESS_SLOT_MAX 31
#define PCI_ADDRESS_FUNCTION_MAX 7

/* What names a device to QEMU and to clients: its alias (libvirt's "virtio-disk0", "net0",
 * or a user's "ua-…", which is kept in the persistent definition; other aliases are assigned
 * at start and live only in the live definition) and its address (assigned at define). */
struct device_info {
    char *alias;
    struct domain_address *address;
};

enum disk_type { DISK_TYPE_FILE, DISK_TYPE_BLOCK, DISK_TYPE_VOLUME };
enum disk_device { DISK_DEVICE_DISK, DISK_DEVICE_CDROM };
enum disk_bus { DISK_BUS_VIRTIO, DISK_BUS_IDE, DISK_BUS_SCSI, DISK_BUS_SATA, DISK_BUS_USB };
enum disk_format { DISK_FORMAT_NONE, DISK_FORMAT_RAW, DISK_FORMAT_QCOW2 };

/* <numatune><memory mode>, libvirt's virDomainNumatuneMemMode values (also on the wire) */
enum numatune_mode {
    NUMATUNE_NONE = -1,
    NUMATUNE_STRICT,
    NUMATUNE_PREFERRED,
    NUMATUNE_INTERLEAVE,
    NUMATUNE_RESTRICTIVE,
};
extern const char *const numatune_mode_names[]; /* by enum numatune_mode, NULL-terminated */

/* An image below a disk's top image, as probed at start (live only). */
struct disk_layer {
    enum disk_type type; /* file or block */
    char *path;
    enum disk_format format;
    unsigned index; /* numbers the image's node names and <backingStore index=> */
};

/* <mirror ready=>: a block copy's progress (libvirt's values) */
enum disk_mirror_ready {
    DISK_MIRROR_COPYING, /* no ready= */
    DISK_MIRROR_READY,   /* "yes": in step with the disk, can be pivoted to */
    DISK_MIRROR_ABORT,   /* "abort": ending, the guest stays on its image */
    DISK_MIRROR_PIVOT,   /* "pivot": ending, the guest moves to the copy */
};

/* <mirror job=>: the block job of a disk */
enum disk_mirror_job {
    DISK_MIRROR_JOB_COPY,          /* blockcopy */
    DISK_MIRROR_JOB_ACTIVE_COMMIT, /* blockcommit of the disk's top image */
    DISK_MIRROR_JOB_PULL,          /* blockpull: only in the daemon's status */
    DISK_MIRROR_JOB_COMMIT,        /* blockcommit of a backing image: likewise */
};

/* The live <mirror type='file|block' job='copy|active-commit'> of a disk being copied
 * (blockcopy) or committed into an image below (blockcommit --active), libvirt's form; its
 * source the copy, or the image committed into. A pull or a commit below the top has one only
 * in the daemon's status (DOMAIN_DEF_FORMAT_STATUS), with the images it merges: a restarted
 * daemon takes every block job up again from it. */
struct disk_mirror {
    enum disk_mirror_job job;
    enum disk_type type; /* file or block */
    char *path;          /* NULL only for a pull down to nothing (no base) */
    enum disk_format format;
    unsigned index;   /* numbers the copy's node names (<source index=>); the base's */
    unsigned top;     /* a commit below the top: the index of the image committed */
    gboolean shallow; /* on the disk's own backing image; a full copy has <backingStore/> */
    enum disk_mirror_ready ready;
};

#define DISK_CHAIN_MAX 200 /* images in one backing chain, as libvirt */
#define DISK_TARGET_LETTERS_MAX 6
#define DISK_QUEUES_MAX 1024 /* virtio-blk's num-queues (QEMU's VIRTIO_QUEUE_MAX) */
#define DISK_QUEUE_SIZE_MAX                                                                        \
    1024 /* virtio-blk's queue-size (QEMU's VIRTQUEUE_MAX_SIZE) */ /* "sdzzzzzz": an index that    \
                                                                      fits an int */

/* <iotune> of a disk (QEMU's throttling), field by field in libvirt's order (the names are
 * the elements', the procedures' and virsh's); 0: not set. group_name aside. */
#define DISK_IOTUNE_FIELDS 19
extern const char *const disk_iotune_names[DISK_IOTUNE_FIELDS];
struct disk_iotune {
    guint64 v[DISK_IOTUNE_FIELDS];
    char *group_name;
};
/* A total and its read/write parts exclude each other (ERR_XML_ERROR, libvirt's check). */
gboolean domain_def_iotune_check(const struct disk_iotune *t, GError **error);

/* <driver>'s on/off switches of a virtio disk, libvirt's names and QEMU's properties */
#define DISK_DRIVER_SWITCHES 6
#define DISK_DRIVER_VIRTIO_OPTIONS 2 /* where the virtio options begin among them */
extern const char *const disk_driver_switch_names[DISK_DRIVER_SWITCHES];
extern const char *const disk_driver_switch_props[DISK_DRIVER_SWITCHES];

struct disk_def {
    enum disk_type type;
    enum disk_device device;
    char *driver_name;       /* "qemu" or NULL */
    enum disk_format format; /* NONE: not given (raw is used) */
    char *cache;             /* driver cache=, NULL when absent */
    char *discard;           /* driver discard=, NULL when absent */
    char *io;                /* driver io= (threads, native, io_uring); NULL: the host's */
    char *error_policy;      /* driver error_policy= (stop, report, ignore, enospace) */
    char *rerror_policy;     /* driver rerror_policy= (stop, report, ignore) */
    char *detect_zeroes;     /* driver detect_zeroes= (off, on, unmap) */
    unsigned queues;         /* driver queues= (virtio: QEMU's num-queues); 0: QEMU's */
    unsigned queue_size;     /* driver queue_size= (virtio: a power of two); 0: QEMU's */
    /* driver ioeventfd=, event_idx=, and the virtio options iommu=, ats=, packed=,
     * page_per_vq= (on/off; virtio only), in disk_driver_switch_names' order */
    enum domain_tristate switches[DISK_DRIVER_SWITCHES];
    char *source;      /* file or block device path; NULL: empty (cdrom); for a volume
                        * disk the path the pool resolved at start (live only) */
    char *source_pool; /* type volume: <source pool='…' volume='…'/> */
    char *source_volume;
    char *target_dev; /* "vda", "hdc", "sda" */
    enum disk_bus bus;
    enum domain_tristate removable; /* <target removable='on|off'> (bus usb) */
    gboolean readonly;
    gboolean shareable;
    unsigned boot_order; /* <boot order='N'/>; 0 when absent */
    char *serial;
    struct disk_iotune iotune;
    unsigned iothread; /* <driver iothread>: the IOThread it does I/O on; 0: the main loop */
    struct device_info info;
    unsigned source_index;      /* live: numbers the top image's node names; 0: not probed */
    GPtrArray *backing;         /* live: struct disk_layer *, the top image's backing first; NULL:
                                 * not probed */
    struct disk_mirror *mirror; /* live: a block copy under way; NULL: none */
};

enum net_type { NET_TYPE_USER, NET_TYPE_BRIDGE, NET_TYPE_NETWORK, NET_TYPE_ETHERNET };

struct net_def {
    enum net_type type;
    char *source;    /* bridge or network name; NULL for user */
    char *portgroup; /* <source portgroup>: a network's portgroup; NULL: its default one */
    uint8_t mac[6];
    gboolean mac_given; /* false: generated at parse time (then stored) */
    char *model;        /* "virtio", "e1000", "rtl8139"; NULL: default */
    /* <target dev>: a tap name the user chose (kept), or, in a live definition, the tap made
     * at start (vnetN: dropped when defined, as libvirt does) */
    char *target_dev;
    gboolean target_unmanaged; /* <target managed='no'>: an existing tap (type ethernet) */
    gboolean link_down;        /* <link state='down'/> */
    struct bandwidth_rate inbound, outbound; /* <bandwidth>: to the guest, from the guest; a
                                              * floor only on type network */
    struct vlan_def vlan;                    /* <vlan>: only on a host bridge */
    unsigned floor_class; /* live: the tc class of its floor on the network's bridge (0: none),
                           * <bandwidth classID> in the status */
    char *live_bridge;    /* live: the bridge the tap of a type 'network' NIC went on */
    unsigned boot_order;
    struct device_info info;
};

enum input_type { INPUT_TYPE_TABLET, INPUT_TYPE_MOUSE, INPUT_TYPE_KEYBOARD };
enum input_bus { INPUT_BUS_USB, INPUT_BUS_PS2, INPUT_BUS_VIRTIO };

struct input_def {
    enum input_type type;
    enum input_bus bus;
    struct device_info info;
};

enum graphics_type { GRAPHICS_TYPE_VNC, GRAPHICS_TYPE_SPICE };

struct graphics_def {
    enum graphics_type type;
    int port; /* -1: autoport */
    gboolean autoport;
    char *listen; /* NULL: 127.0.0.1 (set so in the live definition) */
    char *passwd; /* secret: formatted only with DOMAIN_DEF_FORMAT_SECURE */
    char *keymap;
    char *image_compression; /* spice: <image compression>, NULL: QEMU's default */
};

/* "vnc", "spice" */
const char *domain_def_graphics_type_to_string(enum graphics_type type);

void domain_def_graphics_free(struct graphics_def *graphics);

enum chr_type { CHR_TYPE_PTY, CHR_TYPE_FILE, CHR_TYPE_UNIX, CHR_TYPE_NULL, CHR_TYPE_SPICEVMC };

/* <serial>, <console> and <channel>: a character device. */
struct chr_def {
    enum chr_type type;
    char *source_path; /* pty: live /dev/pts/N (status XML only); file/unix: path */
    char *target_type; /* serial: "isa-serial"; console: "serial"/"virtio"; channel:
                        * "virtio" */
    char *target_name; /* channel target name */
    int target_port;   /* -1 when absent */
    char *log_file;    /* <log file='…'/> */
    gboolean log_append;
    char *source_mode;  /* unix: "bind"/"connect"; NULL when absent */
    char *target_model; /* serial: <target><model name='…'/>, "isa-serial" */
    struct device_info info;
};

struct video_def {
    char *model;    /* "cirrus", "vga", "virtio", "qxl", "bochs", "none" */
    unsigned vram;  /* 0 when absent */
    unsigned heads; /* 0 when absent */
    gboolean primary;
    struct device_info info;
};

/* <redirdev bus='usb' type='spicevmc'/>: a USB device of the SPICE client's, redirected */
struct redirdev_def {
    struct device_info info;
};

struct sound_def {
    char *model; /* "ac97", "ich6", "ich9", "es1370" */
    struct device_info info;
};

struct controller_def {
    char *type;           /* "usb", "pci", "ide", "scsi", "sata", "virtio-serial" */
    int index;            /* -1 when absent */
    char *model;          /* NULL when absent */
    int master_startport; /* -1 when absent */
    unsigned ports;       /* 0 when absent */
    char *model_name;     /* <model name='…'/> (pci controllers); NULL when absent */
    int target_chassis;   /* <target chassis='N'/>; -1 when absent */
    char *target_port;    /* <target port='0x10'/>, as given; NULL when absent */
    struct device_info info;
};

struct memballoon_def {
    char *model; /* "virtio" or "none" */
    struct device_info info;
};

struct rng_def {
    char *model;         /* "virtio" */
    char *backend;       /* "/dev/urandom" */
    char *backend_model; /* "random" */
    struct device_info info;
};

struct timer_def {
    char *name;       /* "rtc", "pit", "hpet", "kvmclock", … */
    char *tickpolicy; /* NULL when absent */
    enum domain_tristate present;
};

/* <cpu><feature policy='require' name='…'/>. */
struct cpu_feature_def {
    char *policy; /* "force", "require", "optional", "disable", "forbid" */
    char *name;
};

/* <cpu><numa><cell id cpus memory>: a guest NUMA node */
#define DOMAIN_DEF_NUMA_CELLS_MAX 128
struct numa_cell_def {
    unsigned id;
    char *cpus; /* canonical vCPU list; NULL when absent */
    uint64_t memory_kib;
};

/* <numatune><memnode cellid mode nodeset>: the memory of guest NUMA cell CELLID bound on its
 * own */
struct numa_memnode {
    unsigned cellid;
    int mode;      /* enum numatune_mode */
    char *nodeset; /* canonical host node list */
};

/* <memory model='dimm'>: a memory module (pc-dimm), its slot in its <address type='dimm'>;
 * <memory model='virtio-mem'>: a virtio-mem-pci device on a PCI address, of which the guest
 * uses what is REQUESTED, block by block (changed live with update-device) */
enum memdev_model { MEMDEV_DIMM, MEMDEV_VIRTIO_MEM };
struct memdev_def {
    enum memdev_model model;
    uint64_t size_kib; /* a DIMM's rounded up to 2 MiB, as libvirt; virtio-mem: its most */
    int node;          /* <target><node>; -1 when absent */
    /* virtio-mem: <block>, <requested>, and <current> (what the guest has plugged, from
     * QEMU's MEMORY_DEVICE_SIZE_CHANGE; live only) */
    uint64_t block_kib, requested_kib, current_kib;
    struct device_info info;
};

/* <hostdev mode='subsystem' type='pci'>: a host PCI device (or SR-IOV virtual function)
 * given to the guest with VFIO */
struct hostdev_def {
    struct pci_address source;    /* the host's address (multi unused) */
    gboolean managed;             /* managed='yes': bound to vfio-pci at start, given back to
                                   * its host driver at stop */
    gboolean driver_vfio;         /* <driver name='vfio'/> given (the only backend) */
    unsigned boot_order;          /* <boot order>; 0 when absent */
    enum domain_tristate rom_bar; /* <rom bar='on|off'> */
    char *rom_file;               /* <rom file>: "" hides the device's ROM */
    struct device_info info;
};

/* <iothreadids><iothread id>: an IOThread of QEMU (object iothreadN), the disks that name it
 * do their I/O on it; AUTOFILL: numbered to reach the <iothreads> count, not given */
#define DOMAIN_DEF_IOTHREADS_MAX 1024
struct iothread_def {
    unsigned id;
    gboolean autofill;
    char *cpuset; /* <cputune><iothreadpin>, canonical; NULL: not pinned */
};

/* libvirt's bounds of a CFS period and quota (µs), and its "unlimited" memory tunable (KiB) */
#define DOMAIN_DEF_PERIOD_MIN 1000ULL
#define DOMAIN_DEF_PERIOD_MAX 1000000ULL
#define DOMAIN_DEF_QUOTA_MIN 1000LL
#define DOMAIN_DEF_QUOTA_MAX 17592186044415LL
#define DOMAIN_DEF_MEMORY_UNLIMITED 9007199254740991ULL

/* <blkiotune><device>: a host block device's weight and throttles (0: none) */
struct blkio_device_def {
    char *path;
    unsigned weight;
    guint64 read_iops, write_iops, read_bytes, write_bytes; /* per second */
};
void domain_def_blkio_device_free(struct blkio_device_def *dev);

/* Every GPtrArray of a parsed definition is non-NULL (maybe empty) and frees its elements. */
/* One vCPU's <vcpus> entry */
struct domain_vcpu {
    gboolean online;       /* enabled= */
    gboolean hotpluggable; /* a device of its own (vcpuN), not one QEMU starts with */
    unsigned order;        /* the order it is plugged in at start; 0: none */
};

struct domain_def {
    enum domain_virt_type virt_type;
    char *name;
    uint8_t uuid[UUID_LEN];
    char *title;
    char *description;
    char *metadata; /* inner XML of <metadata>: its elements, each dumped with the
                     * namespaces it uses and indented for its place in
                     * domain_def_format's output; "" for an empty <metadata/>;
                     * NULL when absent */

    uint64_t memory_kib; /* <memory> */
    uint64_t current_memory_kib;
    uint64_t max_memory_kib; /* <maxMemory>; 0 when absent */
    unsigned max_memory_slots;

    unsigned vcpus;         /* <vcpu> */
    unsigned vcpus_current; /* current=, equals vcpus when absent; the online ones' count */
    /* <vcpus>: struct domain_vcpu by vCPU id, vcpus of them, once the XML had <vcpus> or a
     * vCPU was plugged; NULL: vCPUs 0 to vcpus_current - 1 online (domain_def_vcpus.c) */
    GArray *vcpu_states;
    char *vcpu_placement; /* "static"/"auto"; NULL when absent (formatted as static) */
    char *vcpu_cpuset;    /* cpuset=, canonical ("1-2,4"); NULL when absent */
    /* <cputune>: <vcpupin>'s cpuset by vCPU number (canonical; NULL: not pinned), as long as
     * the highest pinned vCPU + 1; <emulatorpin>'s (NULL when absent) */
    GPtrArray *vcpupins;
    char *emulatorpin;
    /* <cputune>'s scheduler tunables (cgroup cpu controller): 0 when absent; a quota of -1
     * is no limit */
    uint64_t cpu_shares;
    uint64_t vcpu_period, global_period, emulator_period; /* µs */
    int64_t vcpu_quota, global_quota, emulator_quota;     /* µs */
    /* <numatune><memory>: how the guest's memory is bound to the host's NUMA nodes */
    int numa_mode;      /* enum numatune_mode; NUMATUNE_NONE: no <numatune> */
    char *numa_nodeset; /* the host nodes, canonical ("0-1"); set with a mode */
    /* <memtune> (cgroup memory controller), KiB: 0 when absent */
    uint64_t mem_hard_limit, mem_soft_limit, mem_swap_hard_limit;
    /* <blkiotune> (cgroup blkio / io controller): 0 when absent */
    unsigned blkio_weight;
    GPtrArray *blkio_devices; /* struct blkio_device_def * */
    GPtrArray *iothreads;     /* struct iothread_def *, in their order */

    char *os_type;    /* "hvm" */
    char *os_arch;    /* "x86_64" */
    char *os_machine; /* NULL: default ("pc") */
    enum domain_boot_dev boot[4];
    unsigned nboot;
    char *kernel, *initrd, *cmdline;
    char *loader;
    gboolean loader_readonly;
    char *loader_type;    /* "rom"/"pflash" */
    char *nvram;          /* <nvram>: the pflash variable store */
    char *nvram_template; /* its template= */
    gboolean bootmenu;
    int bootmenu_timeout; /* timeout= in ms; -1 when absent */

    gboolean acpi, apic, pae;
    enum domain_tristate vmport; /* <features><vmport state='on|off'/> */
    char *cpu_mode;              /* "host-passthrough", "host-model", "custom"; NULL */
    char *cpu_model;             /* <cpu><model> for custom */
    char *cpu_match;             /* "exact", "minimum", "strict"; NULL when absent */
    char *cpu_check;             /* "none", "partial", "full"; NULL when absent */
    char *cpu_migratable;        /* "on"/"off" (host-passthrough); NULL when absent */
    char *cpu_model_fallback;    /* "allow"/"forbid"; NULL when absent */
    GPtrArray *cpu_features;     /* struct cpu_feature_def * */
    unsigned cpu_sockets, cpu_dies, cpu_cores, cpu_threads; /* <topology>; 0 when absent */
    char *clock_offset; /* "utc", "localtime"; NULL when absent (formatted as utc) */
    struct timer_def *timers;
    unsigned ntimers;

    enum domain_action on_poweroff, on_reboot, on_crash;
    enum domain_tristate pm_suspend_to_mem, pm_suspend_to_disk;
    enum domain_tristate perf[PERF_EVENT_N]; /* <perf><event name enabled>, by event */

    char *emulator; /* as given; NULL when absent */

    GPtrArray *disks;        /* struct disk_def * */
    GPtrArray *nets;         /* struct net_def * */
    GPtrArray *inputs;       /* struct input_def * */
    GPtrArray *graphics;     /* struct graphics_def * */
    GPtrArray *serials;      /* struct chr_def * */
    GPtrArray *consoles;     /* struct chr_def * */
    GPtrArray *channels;     /* struct chr_def * */
    GPtrArray *videos;       /* struct video_def * */
    GPtrArray *sounds;       /* struct sound_def * */
    GPtrArray *redirdevs;    /* struct redirdev_def * */
    gboolean audio_spice;    /* <audio type='spice'/>: the sound goes to the SPICE client */
    gboolean audio_explicit; /* an <audio> was given (else SPICE's is implied) */
    GPtrArray *controllers;  /* struct controller_def * */
    struct memballoon_def *memballoon;
    GPtrArray *rngs;          /* struct rng_def * */
    char *panic_model;        /* <panic model='isa'/>; NULL: no panic device */
    GPtrArray *numa_cells;    /* struct numa_cell_def *, as given */
    GPtrArray *numa_memnodes; /* struct numa_memnode *, as given */
    GPtrArray *memdevs;       /* struct memdev_def * */
    GPtrArray *hostdevs;      /* struct hostdev_def * */
    struct device_info panic_info;
};

/* Parse flags. */
enum {
    DOMAIN_DEF_PARSE_VALIDATE = 1 << 0, /* check against the RELAX NG schema first */
    DOMAIN_DEF_PARSE_STATUS = 1 << 1,   /* the daemon's own live state: keep every alias and
                                         * the disks' probed backing chains */
};

#define DOMAIN_USER_ALIAS_PREFIX "ua-"

/* Format flags: values of libvirt's virDomainXMLFlags where they coincide. */
enum {
    DOMAIN_DEF_FORMAT_SECURE = 1 << 0,   /* include passwords */
    DOMAIN_DEF_FORMAT_INACTIVE = 1 << 1, /* leave out live-only data (pty paths) */
    DOMAIN_DEF_FORMAT_STATUS = 1 << 16,  /* the daemon's status: its private parts too */
};

/* Parses and validates XML. A missing uuid is generated, a missing MAC too. Defaults are
 * filled in so that domain_def_format shows them: actions, os type/arch, boot hd when no boot
 * order is given, controller indexes, serial target type/port/model, a serial port for a
 * console of target type serial (and a console for the first serial), video heads/vram/
 * primary, rng backend /dev/urandom, panic model isa. Runtime-only parts of libvirt's live
 * XML (id, alias, resource, dynamic seclabel, backingStore, source index, console tty, audio
 * type none, channel target state, interface target dev vnetN) are accepted and dropped.
 * Errors: ERR_XML_ERROR (not well-formed, missing required element), ERR_CONFIG_UNSUPPORTED
 * (an element or attribute we do not support; the message names it), ERR_INVALID_ARG (bad
 * value: name, memory, vcpus), ERR_XML_INVALID_SCHEMA (with PARSE_VALIDATE). Origin
 * ERR_FROM_DOMAIN. Returns a new definition. */
struct domain_def *domain_def_parse(const char *xml, unsigned flags, GError **error);

/* Memory as libvirt accounts it: <memory> (memory_kib) is the total, the memory the guest
 * starts with (the NUMA cells' sum) plus its modules'. The initial part; the slot of MEM
 * (-1: none yet); MEM checked against DEF (its node, its slot); DEF's memory hotplug checked
 * (modules need <maxMemory>, which needs NUMA cells; slots; space): ERR_CONFIG_UNSUPPORTED or
 * ERR_XML_ERROR with libvirt's messages. */
uint64_t domain_def_memory_initial(const struct domain_def *def);
int domain_def_memdev_slot(const struct memdev_def *mem);
gboolean domain_def_memdev_check(const struct domain_def *def, const struct memdev_def *mem,
                                 GError **error);
gboolean domain_def_memory_check_hotplug(const struct domain_def *def, GError **error);

/* True when some disk, interface or host device carries <boot order='N'/>. */
gboolean domain_def_devices_have_boot_order(const struct domain_def *def);

/* The IOThread ID of DEF, or NULL; a new one appended (not there yet; owned by DEF). */
struct iothread_def *domain_def_iothread_find(const struct domain_def *def, unsigned id);
/* Appends an IOThread ID to DEF (not there yet); returns it (owned by DEF). */
struct iothread_def *domain_def_iothread_add(struct domain_def *def, unsigned id,
                                             gboolean autofill);

/* Each vCPU's state (domain_def_vcpus.c). Online / hot-pluggable: vCPU ID's (FALSE past the
 * maximum). _boot: how many vCPUs QEMU starts with (online, not hot-pluggable: the first
 * ones). _plugged: the online hot-pluggable vCPUs' ids in the order they are plugged at start
 * (new array of unsigned; caller frees). _individualize: gives every vCPU its own entry (the
 * XML then has <vcpus>). _set: vCPU ID online or offline (hot-pluggable either way).
 * _set_count: N online, the configuration's way (the lowest offline come, hot-pluggable when
 * HOTPLUGGABLE, the highest online go); _set_max: N vCPUs at most, those added offline. _same: the
 * same vCPUs online and hot-pluggable in both (a saved guest's ABI). */
gboolean domain_def_vcpu_online(const struct domain_def *def, unsigned id);
gboolean domain_def_vcpu_hotpluggable(const struct domain_def *def, unsigned id);
unsigned domain_def_vcpus_boot(const struct domain_def *def);
GArray *domain_def_vcpus_plugged(const struct domain_def *def);
void domain_def_vcpus_individualize(struct domain_def *def);
void domain_def_vcpu_set(struct domain_def *def, unsigned id, gboolean online);
void domain_def_vcpus_set_count(struct domain_def *def, unsigned n, gboolean hotpluggable);
void domain_def_vcpus_set_max(struct domain_def *def, unsigned n);
gboolean domain_def_vcpus_same(const struct domain_def *a, const struct domain_def *b);

/* Formats DEF as libvirt-style XML (2-space indent, single quotes). ID >= 0 adds id='ID' to
 * <domain>. Returns a new string. */
char *domain_def_format(const struct domain_def *def, int id, unsigned flags);

/* A new, empty definition with every array allocated and the defaults of a parse
 * (actions destroy/restart/destroy, vcpus 1). */
struct domain_def *domain_def_new(void);

/* A deep copy. */
struct domain_def *domain_def_copy(const struct domain_def *def);

void domain_def_free(struct domain_def *def);
typedef struct domain_def domain_def;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(domain_def, domain_def_free)

const char *domain_action_to_string(enum domain_action action);
int domain_action_from_string(const char *str);
const char *disk_bus_to_string(enum disk_bus bus);
/* DISK_FORMAT_NONE gives NULL. */
const char *disk_format_to_string(enum disk_format format);
const char *domain_virt_type_to_string(enum domain_virt_type type);
const char *domain_boot_dev_to_string(enum domain_boot_dev dev);
const char *disk_type_to_string(enum disk_type type);
const char *disk_device_to_string(enum disk_device device);
const char *disk_mirror_job_to_string(enum disk_mirror_job job);
const char *net_type_to_string(enum net_type type);
void domain_def_net_free(struct net_def *net);
/* Whether NET's target dev is a name taps get at start (vnetN, macvtapN), not the user's. */
gboolean domain_def_net_auto_target(const struct net_def *net);
const char *input_type_to_string(enum input_type type);
const char *input_bus_to_string(enum input_bus bus);
const char *chr_type_to_string(enum chr_type type);

void domain_address_free(struct domain_address *address);
void disk_layer_free(struct disk_layer *layer);
void disk_mirror_free(struct disk_mirror *mirror);

/* Whether DEF has a memory balloon QEMU knows by an alias (not model 'none'). */
gboolean domain_def_has_balloon(const struct domain_def *def);

/* DEF's disk with target TARGET ("vda"), or NULL; borrowed. */
struct disk_def *domain_def_find_disk(const struct domain_def *def, const char *target);

/* The index of a disk target's letters, as libvirt numbers them: vda 0, hdc 2, sdab 27. */
int disk_target_index(const char *dev);

/* A new address of TYPE with attribute pairs KEY, VALUE, …, NULL, in that order. */
struct domain_address *domain_address_new(const char *type, ...) G_GNUC_NULL_TERMINATED;

/* The value of attribute KEY; NULL when absent. */
const char *domain_address_get(const struct domain_address *address, const char *key);

/* The number in attribute KEY (decimal or 0x hex; the parser has checked it); DEF when
 * absent. */
unsigned domain_address_get_uint(const struct domain_address *address, const char *key,
                                 unsigned def);

/* True when ADDRESS is of type TYPE. NULL is of no type. */
gboolean domain_address_is(const struct domain_address *address, const char *type);

/* ADDRESS (of type pci) as numbers. */
void domain_address_to_pci(const struct domain_address *address, struct pci_address *ret);

/* A new address of type pci formatted as libvirt formats it
 * (domain='0x0000' bus='0x00' slot='0x03' function='0x0' [multifunction='on']). */
struct domain_address *domain_address_new_pci(const struct pci_address *pci);

/* "0000:00:03.0" */
char *pci_address_to_string(const struct pci_address *pci);

/* True for "ua-…". */
gboolean domain_alias_is_user(const char *alias);

void device_info_clear(struct device_info *info);
/* Deep-copies SRC into DST; DST and SRC may be the same (after a shallow struct copy). */
void device_info_copy(struct device_info *dst, const struct device_info *src);

/* The info of every device of DEF that has one (disks, controllers, interfaces, serials,
 * consoles, channels, inputs, sounds, videos, rngs, memballoon, panic), in that order. The
 * array holds pointers into DEF; free the array only. */
GPtrArray *domain_def_infos(struct domain_def *def);

/* What the parser takes for an enumerated attribute, for the domain capabilities to name:
 * a NULL-terminated list. */
enum domain_def_enum {
    DOMAIN_DEF_ENUM_DISK_DEVICE,   /* <disk device> */
    DOMAIN_DEF_ENUM_DISK_BUS,      /* <target bus> of a disk */
    DOMAIN_DEF_ENUM_GRAPHICS_TYPE, /* <graphics type> */
    DOMAIN_DEF_ENUM_VIDEO_MODEL,   /* <video><model type> */
    DOMAIN_DEF_ENUM_HOSTDEV_MODE,  /* <hostdev mode> */
    DOMAIN_DEF_ENUM_HOSTDEV_TYPE,  /* <hostdev type> */
    DOMAIN_DEF_ENUM_RNG_MODEL,     /* <rng model> */
    DOMAIN_DEF_ENUM_RNG_BACKEND,   /* <rng><backend model> */
    DOMAIN_DEF_ENUM_CHANNEL_TYPE,  /* <channel type> */
    DOMAIN_DEF_ENUM_LOADER_TYPE,   /* <loader type> */
};
const char *const *domain_def_enum_values(enum domain_def_enum which);
