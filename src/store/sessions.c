/* sessions.c: the sessions repository (store/sessions.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sessions.h"
