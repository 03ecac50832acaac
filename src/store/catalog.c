/* catalog.c: the catalog repository (store/catalog.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog.h"
