/* plugin-graph — graph walks offered to plugins (see plugin-graph.c).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_PLUGIN_GRAPH_H
#define RILL_PLUGIN_GRAPH_H

/* Install them into the plugin host table (once, before projects are loaded). */
void plugin_graph_install(void);

#endif
