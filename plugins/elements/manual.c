/* manual.c — the manual element: a BuildElement whose commands are all given by the element.
 * Defaults live in manual.yaml; validation and the unique key are the shared BuildElement logic.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

COMMON_BUILD_ELEMENT_PLUGIN("manual");
