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
int cmd_checkout(struct cli *c, int argc, char **argv);      /* checkout.c: bst's checkout */
int cmd_source_bundle(struct cli *c, int argc, char **argv); /* bundle.c */
int cmd_workspace(struct cli *c, int argc, char **argv); /* workspace.c */

/* One element loaded (with its project) and the artifact cache open, for the commands that
 * work on one element. */
struct one {
	struct project *p;
	struct element *e;
	struct element **roots;
	struct cas *cas;
};
int load_one(struct cli *c, const char *target, struct one *o, struct error *err);
void one_release(struct one *o);

#endif
