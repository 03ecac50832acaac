/* stores.c: the stores repository (store/stores.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/stores.h"
