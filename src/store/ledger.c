/* ledger.c: the ledger repository (store/ledger.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/ledger.h"
