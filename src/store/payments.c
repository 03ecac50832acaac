/* payments.c: the payments repository (store/payments.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/payments.h"
