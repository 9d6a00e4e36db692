/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def copy: freeing and deep-copying the device definitions of a domain (the live
 * definition of a running domain is a copy of the persistent one); prefix domain_def_. */
#include "conf/domain_def_priv.h"

void
domain_def_disk_free(struct disk_def *disk)
{
    if (!disk)
        return;
    g_free(disk->driver_name);
    g_free(disk->cache);
    g_free(disk->discard);
    g_free(disk->io);
    g_free(disk->error_policy);
    g_free(disk->rerror_policy);
    g_free(disk->detect_zeroes);
    g_free(disk->source);
    g_free(disk->source_pool);
    g_free(disk->source_volume);
    g_free(disk->target_dev);
    g_free(disk->serial);
    g_free(disk->iotune.group_name);
    device_info_clear(&disk->info);
    g_clear_pointer(&disk->backing, g_ptr_array_unref);
    disk_mirror_free(disk->mirror);
    g_free(disk);
}

void
disk_mirror_free(struct disk_mirror *mirror)
{
    if (!mirror)
        return;
    g_free(mirror->path);
    g_free(mirror);
}

void
disk_layer_free(struct disk_layer *layer)
{
    if (!layer)
        return;
    g_free(layer->path);
    g_free(layer);
}

static gpointer
disk_layer_copy(gconstpointer src, gpointer unused)
{
    struct disk_layer *layer = g_memdup2(src, sizeof(*layer));
    layer->path = g_strdup(layer->path);
    return layer;
}

gpointer
domain_def_disk_copy(gconstpointer src, gpointer unused)
{
    struct disk_def *disk = g_memdup2(src, sizeof(*disk));
    disk->driver_name = g_strdup(disk->driver_name);
    disk->cache = g_strdup(disk->cache);
    disk->discard = g_strdup(disk->discard);
    disk->io = g_strdup(disk->io);
    disk->error_policy = g_strdup(disk->error_policy);
    disk->rerror_policy = g_strdup(disk->rerror_policy);
    disk->detect_zeroes = g_strdup(disk->detect_zeroes);
    disk->source = g_strdup(disk->source);
    disk->source_pool = g_strdup(disk->source_pool);
    disk->source_volume = g_strdup(disk->source_volume);
    disk->target_dev = g_strdup(disk->target_dev);
    disk->serial = g_strdup(disk->serial);
    disk->iotune.group_name = g_strdup(disk->iotune.group_name);
    device_info_copy(&disk->info, &disk->info);
    if (disk->backing)
        disk->backing = g_ptr_array_copy(disk->backing, disk_layer_copy, NULL);
    if (disk->mirror) {
        disk->mirror = g_memdup2(disk->mirror, sizeof(*disk->mirror));
        disk->mirror->path = g_strdup(disk->mirror->path);
    }
    return disk;
}

void
domain_def_net_free(struct net_def *net)
{
    if (!net)
        return;
    g_free(net->source);
    g_free(net->model);
    g_free(net->target_dev);
    g_free(net->live_bridge);
    g_free(net->portgroup);
    vlan_def_clear(&net->vlan);
    device_info_clear(&net->info);
    g_free(net);
}

gpointer
domain_def_net_copy(gconstpointer src, gpointer unused)
{
    struct net_def *net = g_memdup2(src, sizeof(*net));
    net->source = g_strdup(net->source);
    net->model = g_strdup(net->model);
    net->target_dev = g_strdup(net->target_dev);
    net->live_bridge = g_strdup(net->live_bridge);
    net->portgroup = g_strdup(net->portgroup);
    vlan_def_copy(&net->vlan, &net->vlan);
    device_info_copy(&net->info, &net->info);
    return net;
}

void
domain_def_input_free(struct input_def *input)
{
    if (!input)
        return;
    device_info_clear(&input->info);
    g_free(input);
}

gpointer
domain_def_input_copy(gconstpointer src, gpointer unused)
{
    struct input_def *input = g_memdup2(src, sizeof(*input));
    device_info_copy(&input->info, &input->info);
    return input;
}

void
domain_def_graphics_free(struct graphics_def *graphics)
{
    if (!graphics)
        return;
    g_free(graphics->listen);
    g_free(graphics->passwd);
    g_free(graphics->keymap);
    g_free(graphics->image_compression);
    g_free(graphics);
}

gpointer
domain_def_graphics_copy(gconstpointer src, gpointer unused)
{
    struct graphics_def *graphics = g_memdup2(src, sizeof(*graphics));
    graphics->listen = g_strdup(graphics->listen);
    graphics->passwd = g_strdup(graphics->passwd);
    graphics->keymap = g_strdup(graphics->keymap);
    graphics->image_compression = g_strdup(graphics->image_compression);
    return graphics;
}

void
domain_def_chr_free(struct chr_def *chr)
{
    if (!chr)
        return;
    g_free(chr->source_path);
    g_free(chr->target_type);
    g_free(chr->target_name);
    g_free(chr->log_file);
    g_free(chr->source_mode);
    g_free(chr->target_model);
    device_info_clear(&chr->info);
    g_free(chr);
}

gpointer
domain_def_chr_copy(gconstpointer src, gpointer unused)
{
    struct chr_def *chr = g_memdup2(src, sizeof(*chr));
    chr->source_path = g_strdup(chr->source_path);
    chr->target_type = g_strdup(chr->target_type);
    chr->target_name = g_strdup(chr->target_name);
    chr->log_file = g_strdup(chr->log_file);
    chr->source_mode = g_strdup(chr->source_mode);
    chr->target_model = g_strdup(chr->target_model);
    device_info_copy(&chr->info, &chr->info);
    return chr;
}

void
domain_def_video_free(struct video_def *video)
{
    if (!video)
        return;
    g_free(video->model);
    device_info_clear(&video->info);
    g_free(video);
}

gpointer
domain_def_video_copy(gconstpointer src, gpointer unused)
{
    struct video_def *video = g_memdup2(src, sizeof(*video));
    video->model = g_strdup(video->model);
    device_info_copy(&video->info, &video->info);
    return video;
}

void
domain_def_sound_free(struct sound_def *sound)
{
    if (!sound)
        return;
    g_free(sound->model);
    device_info_clear(&sound->info);
    g_free(sound);
}

void
domain_def_redirdev_free(struct redirdev_def *redirdev)
{
    if (!redirdev)
        return;
    device_info_clear(&redirdev->info);
    g_free(redirdev);
}

gpointer
domain_def_redirdev_copy(gconstpointer src, gpointer unused)
{
    struct redirdev_def *redirdev = g_memdup2(src, sizeof(*redirdev));
    device_info_copy(&redirdev->info, &redirdev->info);
    return redirdev;
}

gpointer
domain_def_sound_copy(gconstpointer src, gpointer unused)
{
    struct sound_def *sound = g_memdup2(src, sizeof(*sound));
    sound->model = g_strdup(sound->model);
    device_info_copy(&sound->info, &sound->info);
    return sound;
}

void
domain_def_controller_free(struct controller_def *controller)
{
    if (!controller)
        return;
    g_free(controller->type);
    g_free(controller->model);
    g_free(controller->model_name);
    g_free(controller->target_port);
    device_info_clear(&controller->info);
    g_free(controller);
}

gpointer
domain_def_controller_copy(gconstpointer src, gpointer unused)
{
    struct controller_def *controller = g_memdup2(src, sizeof(*controller));
    controller->type = g_strdup(controller->type);
    controller->model = g_strdup(controller->model);
    controller->model_name = g_strdup(controller->model_name);
    controller->target_port = g_strdup(controller->target_port);
    device_info_copy(&controller->info, &controller->info);
    return controller;
}

void
domain_def_memballoon_free(struct memballoon_def *memballoon)
{
    if (!memballoon)
        return;
    g_free(memballoon->model);
    device_info_clear(&memballoon->info);
    g_free(memballoon);
}

gpointer
domain_def_memballoon_copy(gconstpointer src, gpointer unused)
{
    struct memballoon_def *memballoon = g_memdup2(src, sizeof(*memballoon));
    memballoon->model = g_strdup(memballoon->model);
    device_info_copy(&memballoon->info, &memballoon->info);
    return memballoon;
}

void
domain_def_rng_free(struct rng_def *rng)
{
    if (!rng)
        return;
    g_free(rng->model);
    g_free(rng->backend);
    g_free(rng->backend_model);
    device_info_clear(&rng->info);
    g_free(rng);
}

gpointer
domain_def_rng_copy(gconstpointer src, gpointer unused)
{
    struct rng_def *rng = g_memdup2(src, sizeof(*rng));
    rng->model = g_strdup(rng->model);
    rng->backend = g_strdup(rng->backend);
    rng->backend_model = g_strdup(rng->backend_model);
    device_info_copy(&rng->info, &rng->info);
    return rng;
}
