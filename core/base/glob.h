/* glob — BuildStream's path globs (split rules, overlap whitelists, filter's lists).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_GLOB_H
#define RILL_GLOB_H

/* '**' any characters, '*' and '?' within a path component, [...] classes ('!' or '^'
 * negates; a '[' without its ']' is literal). path and pattern are absolute ("/usr/bin/sh").
 * 1 when it matches. */
int glob_match(const char *pattern, const char *path);

#endif
