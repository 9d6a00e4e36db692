/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* console: a domain's serial console over a libvirt stream (DOMAIN_OPEN_CONSOLE); prefix
 * console_. One session per domain; FORCE takes it over. */
#pragma once

#include "core/core.h"
#include "daemon/server.h"

/* virDomainConsoleFlags */
enum { CONSOLE_FORCE = 1, CONSOLE_SAFE = 2 };

/* Attaches CALL's connection to DEV ("serial0", "console0", NULL: the first console) of DOM
 * and replies. Errors: ERR_OPERATION_INVALID (not running), ERR_OPERATION_FAILED (another
 * session is attached and FORCE is not given), ERR_OPERATION_UNSUPPORTED (not a pty). */
void console_open(struct call *call, struct domain *dom, const char *dev, unsigned flags);
