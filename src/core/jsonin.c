/* jsonin.c: typed, range-checked reads of request body fields. */
#include <curl/curl.h>
#include <string.h>

#include "core/jsonin.h"

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

/* 1 when u parses with libcurl's URL API as an absolute URL of one of the
 * two schemes, written lower-case scheme://authority (not curl's lenient
 * "http:/h" or "http:///h"), with a host and a port other than 0. */
static int url_ok(const char *u, const char *scheme, const char *secure)
{
    CURLU *h = curl_url();
    char *got_scheme = NULL, *host = NULL, *port = NULL;
    /* Without CURLU_NON_SUPPORT_SCHEME: a scheme libcurl cannot send to is refused. */
    int ok = h && curl_url_set(h, CURLUPART_URL, u, 0) == CURLUE_OK &&
             curl_url_get(h, CURLUPART_SCHEME, &got_scheme, 0) == CURLUE_OK &&
             curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0];
    if (ok)
        ok = strcmp(got_scheme, scheme) == 0 || strcmp(got_scheme, secure) == 0;
    if (ok) {
        size_t n = strlen(got_scheme);
        ok = strncmp(u, got_scheme, n) == 0 && strncmp(u + n, "://", 3) == 0 && u[n + 3] != '/';
    }
    if (ok && curl_url_get(h, CURLUPART_PORT, &port, 0) == CURLUE_OK)
        ok = strcmp(port, "0") != 0;
    curl_free(got_scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(h);
    return ok;
}

int ck_in_url(json_t *obj, const char *key, int required, int smtp, const char **out, ck_error *err)
{
    int rc = ck_in_str(obj, key, required, CK_URL_MAX, out, err);
    if (rc <= 0)
        return rc;
    if (!url_ok(*out, smtp ? "smtp" : "http", smtp ? "smtps" : "https"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key, "'%s' must be an absolute %s URL with a host, such as %s",
                       key, smtp ? "smtp:// or smtps://" : "http:// or https://",
                       smtp ? "smtp://mail.example.com:587" : "https://erp.example.com/hooks");
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
