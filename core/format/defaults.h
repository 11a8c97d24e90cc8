/* defaults — the built-in project configuration every project.conf is composed over.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_DEFAULTS_H
#define RILL_DEFAULTS_H

/* YAML text, same values as BuildStream 1.x's built-in project defaults. */
extern const char defaults_project_yaml[];

#endif
