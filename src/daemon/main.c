/* main.c: checkoutd, the daemon. Parses the command line, opens the app,
 * prints the listening line, and stops cleanly on SIGTERM or SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkout/app.h"
#include "core/log.h"
#include "core/util.h"

#define USAGE                                                                        \
    "usage: checkoutd [--listen HOST:PORT] [--db URL] [--workers N] [--lease-seconds N]\n" \
    "                 [--jobs-interval N] [--sqlite-synchronous full|normal]\n"         \
    "                 [--authorization-ttl SECONDS] [--max-connections N]\n"           \
    "                 [--max-connections-per-ip N] [--api-key-file PATH]\n"            \
    "                 [--tls-cert PATH --tls-key PATH] [--idle-timeout S]\n"          \
    "                 [--header-timeout S] [--body-timeout S] [--outbound-workers N]\n" \
    "                 [--enable-fault-injection] [--version]\n"

/* A usage error: one log record (stderr carries only JSON), exit status 2. */
static int usage_error(const char *msg)
{
    ck_log(CK_LOG_ERROR, msg, "usage", USAGE, NULL);
    return 2;
}

#define KEY_FILE_MAX 1024
#define PEM_FILE_MAX (64 * 1024)

/* Reads a small file whole into buf (max bytes at most, NUL-terminated):
 * a regular file, none of whose mode bits in `forbidden` are set. 0 with
 * *len, or -1 with *why. */
static int read_small_file(const char *path, char *buf, size_t max, mode_t forbidden, const char *forbidden_why,
                           size_t *len, const char **why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        *why = "not a regular file";
        return -1;
    }
    if (st.st_mode & forbidden) {
        close(fd);
        *why = forbidden_why;
        return -1;
    }
    size_t n = 0;
    ssize_t r;
    while (n <= max && (r = read(fd, buf + n, max + 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    if (n > max) {
        ck_secure_zero(buf, max + 1);
        *why = max == KEY_FILE_MAX ? "longer than 1024 bytes" : "longer than 64 KiB";
        return -1;
    }
    buf[n] = '\0';
    *len = n;
    return 0;
}

/* --api-key-file: the admin key, the file's whole content but one trailing
 * newline. The file must be a regular file that neither group nor others
 * may read or write (as ssh asks of a private key), and the key printable
 * ASCII without spaces. 0 with key filled, or -1 with *why (key wiped). */
static int read_key_file(const char *path, char key[KEY_FILE_MAX + 1], const char **why)
{
    size_t len = 0;
    if (read_small_file(path, key, KEY_FILE_MAX, 077, "group or others may read or write it (chmod 600)", &len,
                        why) < 0)
        return -1;
    if (len > 0 && key[len - 1] == '\n')
        len--;
    if (len > 0 && key[len - 1] == '\r')
        len--;
    key[len] = '\0';
    if (len == 0) {
        *why = "empty";
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f) {
            ck_secure_zero(key, KEY_FILE_MAX + 1);
            *why = "the key holds a space, a control character or a byte outside ASCII";
            return -1;
        }
    return 0;
}

/* --tls-cert and --tls-key: PEM text. The key may be readable by its group
 * (Debian's ssl-cert group), never by others. 0 or -1 with *why. */
static int read_pem(const char *path, int secret, char pem[PEM_FILE_MAX + 1], const char **why)
{
    size_t len = 0;
    if (read_small_file(path, pem, PEM_FILE_MAX, secret ? 007 : 0,
                        "others may read or write it (chmod 600, or 640 for a group such as ssl-cert)", &len,
                        why) < 0)
        return -1;
    if (!strstr(pem, "-----BEGIN ")) {
        ck_secure_zero(pem, PEM_FILE_MAX + 1);
        *why = "not PEM text (no -----BEGIN line)";
        return -1;
    }
    return 0;
}

static int parse_int(const char *s, int min, int max, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    ck_app_config cfg;
    ck_app_config_defaults(&cfg);
    static char host[64];
    static const struct option opts[] = {
        {"listen", required_argument, 0, 'l'},       {"db", required_argument, 0, 'd'},
        {"workers", required_argument, 0, 'w'},      {"lease-seconds", required_argument, 0, 's'},
        {"jobs-interval", required_argument, 0, 'j'}, {"sqlite-synchronous", required_argument, 0, 'y'},
        {"enable-fault-injection", no_argument, 0, 'f'}, {"help", no_argument, 0, 'h'},
        {"authorization-ttl", required_argument, 0, 'a'}, {"version", no_argument, 0, 'V'},
        {"max-connections", required_argument, 0, 'c'}, {"max-connections-per-ip", required_argument, 0, 'p'},
        {"api-key-file", required_argument, 0, 'k'},
        {"tls-cert", required_argument, 0, 'C'},      {"tls-key", required_argument, 0, 'K'},
        {"idle-timeout", required_argument, 0, 'I'},  {"header-timeout", required_argument, 0, 'H'},
        {"body-timeout", required_argument, 0, 'B'},  {"outbound-workers", required_argument, 0, 'o'},
        {0, 0, 0, 0},
    };
    const char *key_file = NULL, *tls_cert = NULL, *tls_key = NULL;
    int c;
    opterr = 0; /* getopt's own messages are plain text: ours are records */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': {
            const char *colon = strrchr(optarg, ':');
            if (!colon || (size_t)(colon - optarg) >= sizeof(host) || parse_int(colon + 1, 0, 65535, &cfg.port)) {
                return usage_error("--listen takes HOST:PORT");
            }
            memcpy(host, optarg, (size_t)(colon - optarg));
            host[colon - optarg] = '\0';
            cfg.listen_host = host;
            break;
        }
        case 'd': cfg.db_url = optarg; break;
        case 'w':
            if (parse_int(optarg, 1, 256, &cfg.workers)) {
                return usage_error("--workers takes 1..256");
            }
            break;
        case 's':
            if (parse_int(optarg, 1, 86400, &cfg.lease_seconds)) {
                return usage_error("--lease-seconds takes 1..86400");
            }
            break;
        case 'j':
            if (parse_int(optarg, 1, 86400, &cfg.jobs_interval)) {
                return usage_error("--jobs-interval takes 1..86400");
            }
            break;
        case 'y':
            if (strcmp(optarg, "full") == 0)
                cfg.sqlite_synchronous_full = 1;
            else if (strcmp(optarg, "normal") == 0)
                cfg.sqlite_synchronous_full = 0;
            else {
                return usage_error("--sqlite-synchronous takes full or normal");
            }
            break;
        case 'a':
            if (parse_int(optarg, 1, 365 * 86400, &cfg.authorization_ttl)) {
                return usage_error("--authorization-ttl takes 1..31536000 seconds");
            }
            break;
        case 'c':
            if (parse_int(optarg, 16, 1000000, &cfg.max_connections)) {
                return usage_error("--max-connections takes 16..1000000");
            }
            break;
        case 'p':
            if (parse_int(optarg, 0, 1000000, &cfg.max_connections_per_ip)) {
                return usage_error("--max-connections-per-ip takes 0..1000000 (0: no cap)");
            }
            break;
        case 'k': key_file = optarg; break;
        case 'C': tls_cert = optarg; break;
        case 'K': tls_key = optarg; break;
        case 'I':
            if (parse_int(optarg, 1, 3600, &cfg.idle_timeout))
                return usage_error("--idle-timeout takes 1..3600 seconds");
            break;
        case 'H':
            if (parse_int(optarg, 1, 3600, &cfg.header_timeout))
                return usage_error("--header-timeout takes 1..3600 seconds");
            break;
        case 'B':
            if (parse_int(optarg, 1, 3600, &cfg.body_timeout))
                return usage_error("--body-timeout takes 1..3600 seconds");
            break;
        case 'o':
            if (parse_int(optarg, 1, 256, &cfg.outbound_workers))
                return usage_error("--outbound-workers takes 1..256");
            break;
        case 'f': cfg.fault_injection = 1; break;
        case 'h': fputs(USAGE, stdout); return 0;
        case 'V': printf("checkoutd %s\n", ck_version()); return 0;
        default: {
            char msg[300];
            snprintf(msg, sizeof(msg), "unknown option or missing argument: %.200s", argv[optind - 1]);
            return usage_error(msg);
        }
        }
    }
    if (optind < argc) {
        char msg[300];
        snprintf(msg, sizeof(msg), "unexpected argument: %.200s", argv[optind]);
        return usage_error(msg);
    }

    if (!tls_cert != !tls_key)
        return usage_error("--tls-cert and --tls-key go together");
    static char cert_pem[PEM_FILE_MAX + 1], key_pem[PEM_FILE_MAX + 1];
    if (tls_cert) {
        const char *why = NULL, *which = "--tls-cert", *path = tls_cert;
        if (read_pem(tls_cert, 0, cert_pem, &why) == 0) {
            which = "--tls-key";
            path = tls_key;
            read_pem(tls_key, 1, key_pem, &why);
        }
        if (why) {
            ck_log(CK_LOG_FATAL, "cannot read the TLS certificate or key", "reason", "TLS_FILE", "option", which,
                   "file", path, "error", why, NULL);
            return 1;
        }
        cfg.tls_cert_pem = cert_pem;
        cfg.tls_key_pem = key_pem;
    }

    /* Signals are taken synchronously by this thread; workers never see them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    ck_error err;
    ck_error_clear(&err);
    ck_app *app = NULL;
    if (ck_app_open(&app, &cfg, &err) < 0) {
        ck_log(CK_LOG_FATAL, "cannot start", "reason", err.reason, "error", err.message, NULL);
        return 1;
    }
    /* The admin key: from --api-key-file or CHECKOUTD_ADMIN_KEY, never both
     * (which one would win is a guess an operator should not have to make). */
    static char file_key[KEY_FILE_MAX + 1];
    const char *admin_key = getenv("CHECKOUTD_ADMIN_KEY"), *source = "CHECKOUTD_ADMIN_KEY", *why = NULL;
    if (key_file && admin_key && *admin_key) {
        ck_log(CK_LOG_FATAL, "cannot set up the admin key", "reason", "ADMIN_KEY_TWICE", "error",
               "give the admin key in CHECKOUTD_ADMIN_KEY or in --api-key-file, not both", NULL);
        ck_app_close(app);
        return 1;
    }
    if (key_file) {
        if (read_key_file(key_file, file_key, &why) < 0) {
            ck_log(CK_LOG_FATAL, "cannot read --api-key-file", "reason", "ADMIN_KEY_FILE", "file", key_file, "error",
                   why, NULL);
            ck_app_close(app);
            return 1;
        }
        admin_key = file_key;
        source = "--api-key-file";
    }
    int key_rc = admin_key && *admin_key ? ck_app_ensure_admin_key(app, admin_key, &err) : 0;
    ck_secure_zero(file_key, sizeof(file_key));
    if (key_rc < 0) {
        ck_log(CK_LOG_FATAL, "cannot set up the admin key", "source", source, "reason", err.reason, "error",
               err.message, NULL);
        ck_app_close(app);
        return 1;
    }
    if (ck_app_start(app, &err) < 0) {
        ck_log(CK_LOG_FATAL, "cannot start", "reason", err.reason, "error", err.message, NULL);
        ck_app_close(app);
        return 1;
    }
    ck_secure_zero(key_pem, sizeof(key_pem)); /* libmicrohttpd keeps its own parsed copy */
    printf("checkoutd listening on %s://%s:%d\n", tls_cert ? "https" : "http", cfg.listen_host, ck_app_port(app));
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    ck_log_obj(CK_LOG_INFO, "stopping", json_pack("{s:i}", "signal", sig));
    ck_app_close(app);
    return 0;
}
