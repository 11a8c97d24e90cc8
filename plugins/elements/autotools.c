/* autotools.c — the autotools element: a BuildElement running autogen/configure/make.
 * Defaults live in autotools.yaml; validation and the unique key are the shared BuildElement logic.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

COMMON_BUILD_ELEMENT_PLUGIN("autotools");
