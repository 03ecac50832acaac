/* orders.c: the orders repository (store/orders.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/orders.h"
