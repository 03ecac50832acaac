/* accounts.c: the accounts repository (store/accounts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/accounts.h"
