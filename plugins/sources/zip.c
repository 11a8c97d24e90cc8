/* zip.c — the zip source: a zip archive downloaded from a URL (alias allowed), checked against its sha256 ref,
 * staged from its base-dir. The unique key is [url as written, ref, base-dir or null].
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

COMMON_ARCHIVE_SOURCE_PLUGIN("zip");
