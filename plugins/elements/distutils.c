/* distutils.c — the distutils element: a BuildElement whose commands come from distutils.yaml.
 * Validation and the unique key are the shared BuildElement logic.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

COMMON_BUILD_ELEMENT_PLUGIN("distutils");
