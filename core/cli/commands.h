/* commands — the backend's pipeline, artifact, source and shell commands (rill-backend's main()
 * dispatches to them; show is in main.c). Each returns the process exit status.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_COMMANDS_H
#define RILL_COMMANDS_H

#include "cli/cli.h"

int cmd_pipeline(struct cli *c, int argc, char **argv);         /* build, fetch, track */
int cmd_artifact(struct cli *c, int argc, char **argv);
int cmd_source(struct cli *c, int argc, char **argv);
int cmd_shell(struct cli *c, int argc, char **argv);
int cmd_init(struct cli *c, int argc, char **argv);          /* init.c */

#endif
