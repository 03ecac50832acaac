/* outbox.c: the outbox repository (store/outbox.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outbox.h"
