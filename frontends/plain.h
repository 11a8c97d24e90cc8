/* plain — the plain-log frontend: renders a build's status table as one line per event in
 * BuildStream's "[elapsed][key][action:element] TYPE message" shape, then a summary. It reads
 * only the status table (through rill-status.h) and the job log files.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_FRONTEND_PLAIN_H
#define RILL_FRONTEND_PLAIN_H

#include <stdio.h>
#include <sys/types.h>

#include "rill-status.h"

/* Follow the session of st until it ends, printing to out. backend is the pid of the backend
 * process this frontend started (0 when it did not start it); *interrupted is polled: once
 * it becomes non-zero the backend is asked to terminate (SIGTERM). Returns the exit status
 * for the command: 0 success, 1 failure, termination or a dead backend. */
int plain_follow(struct rill_status *st, FILE *out, pid_t backend, volatile int *interrupted);

#endif
