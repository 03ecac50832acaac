/* pg_sql.h: the portable SQL's `?` placeholders as PostgreSQL's $1..$n. */
#ifndef CK_STORE_PG_SQL_H
#define CK_STORE_PG_SQL_H

/* "... ? ... '?' ..." -> "... $1 ... '?' ...": each ? outside a quoted
 * string or identifier ('...' or "...") becomes $k, k = 1, 2, ...; the rest
 * is copied as is (an unterminated quote runs to the end). Returns the new
 * text (the caller frees it) with *nparams = k, or NULL when out of memory
 * or past INT_MAX placeholders. */
char *ck_pg_translate(const char *sql, int *nparams);

#endif
