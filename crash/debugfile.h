// SPDX-License-Identifier: MIT
/*
 * Finding a module's separate debug file for libdw without debuginfod:
 * by build-id under /usr/lib/debug/.build-id, then by .gnu_debuglink
 * beside the file, in .debug/ beside it and under /usr/lib/debug, checked
 * by build-id (or the link's CRC32). A crash report never waits on the
 * network. Any thread.
 */
#pragma once

#include <elfutils/libdwfl.h>

/* libdw's find_debuginfo callback: what dwfl_standard_find_debuginfo does,
 * minus its last resort, a debuginfod download. */
int debugfile_find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                   const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                   char **debuginfo_file_name);
