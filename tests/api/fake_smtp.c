/* fake_smtp.c: the in-process SMTP sink of fake_smtp.h. */
#include "api/fake_smtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096
#define DATA_MAX (4 * 1024 * 1024)

typedef struct fsmtp_msg {
    char *from, *rcpts, *data;
} fsmtp_msg;

struct fake_smtp {
    int listen_fd;
    int port;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    int stopping;
    int connections;
    fsmtp_msg *msgs;
    size_t nmsgs, cap;
};

/* A growing byte buffer. */
typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static int buf_add(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int is_stopping(fake_smtp *s)
{
    pthread_mutex_lock(&s->mu);
    int v = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return v;
}

static int send_all(int fd, const char *text)
{
    size_t n = strlen(text);
    while (n) {
        ssize_t w = send(fd, text, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        text += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One connection's reader: bytes received but not yet consumed as lines. */
typedef struct conn {
    int fd;
    char in[8192];
    size_t len;
} conn;

/* Reads one line (without its CRLF / LF) into line. 1 ok, 0 closed or
 * stopping, -1 error. Waits in 100 ms slices so a stop is noticed. */
static int read_line(fake_smtp *s, conn *c, char *line, size_t n)
{
    for (;;) {
        char *nl = memchr(c->in, '\n', c->len);
        if (nl) {
            size_t l = (size_t)(nl - c->in);
            size_t keep = l;
            if (keep && c->in[keep - 1] == '\r')
                keep--;
            if (keep >= n)
                keep = n - 1;
            memcpy(line, c->in, keep);
            line[keep] = '\0';
            memmove(c->in, nl + 1, c->len - l - 1);
            c->len -= l + 1;
            return 1;
        }
        if (c->len == sizeof(c->in)) /* an over-long line: drop what we have */
            c->len = 0;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, 100);
        if (is_stopping(s))
            return 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -1;
        if (pr == 0)
            continue;
        ssize_t r = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 ? 0 : -1;
        c->len += (size_t)r;
    }
}

/* "MAIL FROM:<a@b> SIZE=1" -> "a@b" (malloc'd). */
static char *address_of(const char *arg)
{
    const char *colon = strchr(arg, ':');
    const char *p = colon ? colon + 1 : arg;
    while (*p == ' ')
        p++;
    const char *lt = strchr(p, '<');
    if (lt) {
        const char *gt = strchr(lt, '>');
        return strndup(lt + 1, gt ? (size_t)(gt - lt - 1) : strlen(lt + 1));
    }
    return strndup(p, strcspn(p, " "));
}

static int starts_with(const char *line, const char *word)
{
    return strncasecmp(line, word, strlen(word)) == 0;
}

static void store_message(fake_smtp *s, char *from, buf *rcpts, buf *data)
{
    pthread_mutex_lock(&s->mu);
    if (s->nmsgs == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        fsmtp_msg *m = realloc(s->msgs, cap * sizeof(*m));
        if (!m) {
            pthread_mutex_unlock(&s->mu);
            return;
        }
        s->msgs = m;
        s->cap = cap;
    }
    fsmtp_msg *m = &s->msgs[s->nmsgs];
    m->from = strdup(from ? from : "");
    m->rcpts = strdup(rcpts->p ? rcpts->p : "");
    m->data = strdup(data->p ? data->p : "");
    if (m->from && m->rcpts && m->data) {
        s->nmsgs++;
    } else {
        free(m->from);
        free(m->rcpts);
        free(m->data);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Serves one SMTP session on fd until QUIT, close or stop. */
static void serve(fake_smtp *s, int fd)
{
    conn c = {.fd = fd};
    char line[LINE_MAX_LEN];
    char *from = NULL;
    buf rcpts = {0};
    if (send_all(fd, "220 fake-smtp ESMTP ready\r\n") < 0)
        return;
    while (read_line(s, &c, line, sizeof(line)) == 1) {
        const char *reply = NULL;
        if (starts_with(line, "EHLO")) {
            reply = "250-fake-smtp greets you\r\n250 8BITMIME\r\n";
        } else if (starts_with(line, "HELO")) {
            reply = "250 fake-smtp\r\n";
        } else if (starts_with(line, "MAIL FROM")) {
            free(from);
            from = address_of(line);
            free(rcpts.p);
            rcpts = (buf){0};
            reply = "250 OK\r\n";
        } else if (starts_with(line, "RCPT TO")) {
            if (!from) {
                reply = "503 MAIL first\r\n";
            } else {
                char *a = address_of(line);
                if (a) {
                    if (rcpts.len)
                        buf_add(&rcpts, ",", 1);
                    buf_add(&rcpts, a, strlen(a));
                    free(a);
                }
                reply = "250 OK\r\n";
            }
        } else if (starts_with(line, "DATA")) {
            if (!from || !rcpts.len) {
                reply = "503 need MAIL and RCPT first\r\n";
            } else {
                if (send_all(fd, "354 end data with <CR><LF>.<CR><LF>\r\n") < 0)
                    break;
                buf data = {0};
                int rc, done = 0;
                while ((rc = read_line(s, &c, line, sizeof(line))) == 1) {
                    if (strcmp(line, ".") == 0) {
                        done = 1;
                        break;
                    }
                    const char *l = line[0] == '.' ? line + 1 : line; /* dot-unstuffing */
                    if (data.len + strlen(l) + 2 <= DATA_MAX) {
                        buf_add(&data, l, strlen(l));
                        buf_add(&data, "\r\n", 2);
                    }
                }
                if (done) {
                    store_message(s, from, &rcpts, &data);
                    reply = "250 OK queued\r\n";
                }
                free(data.p);
                free(from);
                from = NULL;
                free(rcpts.p);
                rcpts = (buf){0};
                if (!done)
                    break;
            }
        } else if (starts_with(line, "RSET")) {
            free(from);
            from = NULL;
            free(rcpts.p);
            rcpts = (buf){0};
            reply = "250 OK\r\n";
        } else if (starts_with(line, "NOOP")) {
            reply = "250 OK\r\n";
        } else if (starts_with(line, "QUIT")) {
            send_all(fd, "221 bye\r\n");
            break;
        } else {
            reply = "502 command not implemented\r\n";
        }
        if (reply && send_all(fd, reply) < 0)
            break;
    }
    free(from);
    free(rcpts.p);
}

static void *accept_loop(void *arg)
{
    fake_smtp *s = arg;
    while (!is_stopping(s)) {
        struct pollfd pfd = {.fd = s->listen_fd, .events = POLLIN};
        int pr = poll(&pfd, 1, 100);
        if (pr <= 0)
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->mu);
        s->connections++;
        pthread_mutex_unlock(&s->mu);
        serve(s, fd);
        close(fd);
    }
    return NULL;
}

fake_smtp *fsmtp_start(void)
{
    fake_smtp *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(s->listen_fd, 16) < 0 || getsockname(s->listen_fd, (struct sockaddr *)&sa, &sl) < 0) {
        fsmtp_stop(s);
        return NULL;
    }
    s->port = ntohs(sa.sin_port);
    if (pthread_create(&s->thread, NULL, accept_loop, s) != 0) {
        fsmtp_stop(s);
        return NULL;
    }
    s->started = 1;
    return s;
}

void fsmtp_stop(fake_smtp *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->mu);
    if (s->started)
        pthread_join(s->thread, NULL);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    for (size_t i = 0; i < s->nmsgs; i++) {
        free(s->msgs[i].from);
        free(s->msgs[i].rcpts);
        free(s->msgs[i].data);
    }
    free(s->msgs);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int fsmtp_port(fake_smtp *s)
{
    return s->port;
}

void fsmtp_url(fake_smtp *s, char *out, size_t n)
{
    snprintf(out, n, "smtp://127.0.0.1:%d", s->port);
}

int fsmtp_count(fake_smtp *s)
{
    pthread_mutex_lock(&s->mu);
    int n = (int)s->nmsgs;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int fsmtp_connections(fake_smtp *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->connections;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int fsmtp_message(fake_smtp *s, int i, char *from, size_t from_n, char *rcpts, size_t rcpts_n, char *data,
                  size_t data_n)
{
    pthread_mutex_lock(&s->mu);
    int found = i >= 0 && (size_t)i < s->nmsgs;
    const fsmtp_msg *m = found ? &s->msgs[i] : NULL;
    if (from && from_n)
        snprintf(from, from_n, "%s", m ? m->from : "");
    if (rcpts && rcpts_n)
        snprintf(rcpts, rcpts_n, "%s", m ? m->rcpts : "");
    if (data && data_n)
        snprintf(data, data_n, "%s", m ? m->data : "");
    pthread_mutex_unlock(&s->mu);
    return found;
}
