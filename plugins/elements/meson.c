/* meson.c — the meson element: a BuildElement running meson and ninja.
 * Defaults live in meson.yaml; validation and the unique key are the shared BuildElement logic.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

COMMON_BUILD_ELEMENT_PLUGIN("meson");
