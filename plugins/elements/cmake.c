/* cmake.c — the cmake element: a BuildElement running cmake and its generated build.
 * Defaults live in cmake.yaml; validation and the unique key are the shared BuildElement logic.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

COMMON_BUILD_ELEMENT_PLUGIN("cmake");
