/* version.c: the version string, from CMake's project(VERSION) (the only
 * place it is written down). */
#include "checkout/app.h"

#ifndef CK_VERSION
#error "CK_VERSION comes from CMakeLists.txt"
#endif

const char *ck_version(void)
{
    return CK_VERSION;
}
