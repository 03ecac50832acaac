/* jsonin.c: typed, range-checked reads of request body fields. */
#include <string.h>

#include "http/jsonin.h"

static int absent(const char *key, int required, ck_error *err)
{
    if (required)
        return ck_fail(err, CK_EINVALID, "MISSING_FIELD", key, "'%s' is required", key);
    return 0;
}

int ck_in_only(json_t *obj, const char *const allowed[], ck_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            if (strcmp(allowed[i], key) == 0)
                ok = 1;
        if (!ok)
            return ck_fail(err, CK_EINVALID, "UNKNOWN_FIELD", key, "unknown field '%s'", key);
    }
    return 0;
}

int ck_in_str(json_t *obj, const char *key, int required, size_t maxlen, const char **out,
              ck_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return absent(key, required, err);
    if (!json_is_string(v))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key, "'%s' must be a string", key);
    size_t n = json_string_length(v);
    if (n == 0 || n > maxlen)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key,
                       "'%s' must be 1 to %zu characters long", key, maxlen);
    *out = json_string_value(v);
    return 1;
}

int ck_in_int(json_t *obj, const char *key, int required, int64_t min, int64_t max, int64_t *out,
              ck_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return absent(key, required, err);
    if (!json_is_integer(v))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key, "'%s' must be an integer", key);
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key,
                       "'%s' must be between %lld and %lld", key, (long long)min, (long long)max);
    *out = n;
    return 1;
}

int ck_in_bool(json_t *obj, const char *key, int required, int *out, ck_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return absent(key, required, err);
    if (!json_is_boolean(v))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key, "'%s' must be true or false", key);
    *out = json_is_true(v);
    return 1;
}

int ck_in_enum(json_t *obj, const char *key, int required, const char *const values[],
               const char **out, ck_error *err)
{
    const char *s = NULL;
    int rc = ck_in_str(obj, key, required, 64, &s, err);
    if (rc <= 0)
        return rc;
    for (int i = 0; values[i]; i++) {
        if (strcmp(values[i], s) == 0) {
            *out = values[i];
            return 1;
        }
    }
    char list[256] = "";
    for (int i = 0; values[i]; i++) {
        if (i)
            strncat(list, ", ", sizeof(list) - strlen(list) - 1);
        strncat(list, values[i], sizeof(list) - strlen(list) - 1);
    }
    return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key, "'%s' must be one of: %s", key, list);
}

int ck_in_id(json_t *obj, const char *key, int required, const char *prefix, const char **out,
             ck_error *err)
{
    int rc = ck_in_str(obj, key, required, 128, out, err);
    if (rc <= 0)
        return rc;
    size_t n = strlen(prefix);
    if (strncmp(*out, prefix, n) != 0 || (*out)[n] != '_')
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key, "'%s' must be a %s_ id", key,
                       prefix);
    return 1;
}

int ck_in_country(json_t *obj, const char *key, int required, const char **out, ck_error *err)
{
    int rc = ck_in_str(obj, key, required, 2, out, err);
    if (rc <= 0)
        return rc;
    const char *c = *out;
    if (strlen(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z')
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key,
                       "'%s' must be a two-letter upper-case country code", key);
    return 1;
}

int ck_in_url(json_t *obj, const char *key, int required, int smtp, const char **out, ck_error *err)
{
    int rc = ck_in_str(obj, key, required, CK_URL_MAX, out, err);
    if (rc <= 0)
        return rc;
    const char *u = *out;
    int ok = smtp ? (strncmp(u, "smtp://", 7) == 0 || strncmp(u, "smtps://", 8) == 0)
                  : (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0);
    const char *host = strstr(u, "://");
    if (!ok || !host || !host[3] || host[3] == '/' || strpbrk(u, " \t\r\n"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key, "'%s' must be an %s URL", key,
                       smtp ? "smtp:// or smtps://" : "http:// or https://");
    return 1;
}

int ck_in_array(json_t *obj, const char *key, int required, size_t maxlen, json_t **out,
                ck_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return absent(key, required, err);
    if (!json_is_array(v))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key, "'%s' must be an array", key);
    if (json_array_size(v) > maxlen)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key, "'%s' may hold at most %zu items",
                       key, maxlen);
    *out = v;
    return 1;
}
