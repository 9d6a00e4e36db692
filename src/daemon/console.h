/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* console: a domain's serial console (DOMAIN_OPEN_CONSOLE) or a channel's unix socket
 * (DOMAIN_OPEN_CHANNEL) over a libvirt stream; prefix console_. One session per device; FORCE
 * takes it over. */
#pragma once

#include "core/core.h"
#include "daemon/server.h"

/* virDomainConsoleFlags */
enum { CONSOLE_FORCE = 1, CONSOLE_SAFE = 2 };

/* Attaches CALL's connection to DEV ("serial0", "console0", NULL: the first console) of DOM
 * and replies. Errors: ERR_OPERATION_INVALID (not running), ERR_OPERATION_FAILED (another
 * session is attached and FORCE is not given), ERR_OPERATION_UNSUPPORTED (not a pty). */
void console_open(struct call *call, struct domain *dom, const char *dev, unsigned flags);

/* virDomainChannelFlags */
enum { CHANNEL_FORCE = 1 };

/* Attaches CALL's connection to the unix socket of DOM's channel NAME (its alias or virtio
 * target name; NULL: the first channel) and replies. Errors as libvirt: ERR_INTERNAL_ERROR
 * for no such channel or one that is not a unix socket, ERR_OPERATION_FAILED when another
 * session is attached without FORCE; the guest agent's channel is refused
 * (ERR_OPERATION_INVALID), since the daemon holds it. */
void console_open_channel(struct call *call, struct domain *dom, const char *name, unsigned flags);
