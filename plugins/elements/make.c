/* make.c — the make element: a BuildElement running make and make install.
 * Defaults live in make.yaml; validation and the unique key are the shared BuildElement logic.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

COMMON_BUILD_ELEMENT_PLUGIN("make");
