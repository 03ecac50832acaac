/* subscribers.c: the subscribers repository (store/subscribers.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/subscribers.h"
