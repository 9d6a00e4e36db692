/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* events: subscribers may unsubscribe while an event is being delivered. */
#include "core/events.h"

struct sub {
    guint id;
    events_fn fn;
    gpointer user;
    gboolean dead;
};

struct events {
    GPtrArray *subs;
    guint next;
    int delivering;
};

struct events *
events_new(void)
{
    struct events *bus = g_new0(struct events, 1);
    bus->subs = g_ptr_array_new_with_free_func(g_free);
    bus->next = 1;
    return bus;
}

void
events_free(struct events *bus)
{
    if (!bus)
        return;
    g_ptr_array_free(bus->subs, TRUE);
    g_free(bus);
}

guint
events_subscribe(struct events *bus, events_fn fn, gpointer user)
{
    struct sub *s = g_new0(struct sub, 1);
    s->id = bus->next++;
    s->fn = fn;
    s->user = user;
    g_ptr_array_add(bus->subs, s);
    return s->id;
}

void
events_unsubscribe(struct events *bus, guint id)
{
    for (guint i = 0; i < bus->subs->len; i++) {
        struct sub *s = bus->subs->pdata[i];
        if (s->id != id)
            continue;
        if (bus->delivering)
            s->dead = TRUE;
        else
            g_ptr_array_remove_index(bus->subs, i);
        return;
    }
}

void
events_emit(struct events *bus, const struct event *ev)
{
    bus->delivering++;
    for (guint i = 0; i < bus->subs->len; i++) {
        struct sub *s = bus->subs->pdata[i];
        if (!s->dead)
            s->fn(ev, s->user);
    }
    if (--bus->delivering == 0)
        for (guint i = bus->subs->len; i-- > 0;)
            if (((struct sub *)bus->subs->pdata[i])->dead)
                g_ptr_array_remove_index(bus->subs, i);
}
