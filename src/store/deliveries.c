/* deliveries.c: the deliveries repository (store/deliveries.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/deliveries.h"
