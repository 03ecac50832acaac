/* idempotency.c: the idempotency repository (store/idempotency.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/idempotency.h"
