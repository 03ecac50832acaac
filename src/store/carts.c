/* carts.c: the carts repository (store/carts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/carts.h"
