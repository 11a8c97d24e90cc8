/* qmake.c — the qmake element: a BuildElement whose commands come from qmake.yaml.
 * Validation and the unique key are the shared BuildElement logic.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

COMMON_BUILD_ELEMENT_PLUGIN("qmake");
