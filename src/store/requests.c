/* requests.c: the requests repository (store/requests.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/requests.h"
