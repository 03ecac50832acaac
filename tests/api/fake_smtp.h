/* fake_smtp.h: a minimal in-process SMTP sink for tests. One thread listens
 * on 127.0.0.1 (port chosen by the kernel) and serves one connection at a
 * time: 220 greeting, EHLO/HELO 250, MAIL FROM 250, RCPT TO 250, DATA 354
 * then the message up to "." (dot-unstuffed) 250, RSET 250, NOOP 250, QUIT
 * 221; anything else 502. Each accepted message is stored with its envelope
 * sender, its recipients and its data. Every function is thread-safe. */
#ifndef CK_TEST_FAKE_SMTP_H
#define CK_TEST_FAKE_SMTP_H

#include <stddef.h>

typedef struct fake_smtp fake_smtp;

/* Starts the sink; NULL when it cannot listen. */
fake_smtp *fsmtp_start(void);
/* Stops the thread, closes the sockets and frees everything. NULL-tolerant. */
void fsmtp_stop(fake_smtp *s);

int fsmtp_port(fake_smtp *s);
/* "smtp://127.0.0.1:PORT" into out. */
void fsmtp_url(fake_smtp *s, char *out, size_t n);

/* Messages accepted so far (after the final "."). */
int fsmtp_count(fake_smtp *s);
/* Message i (0-based): the MAIL FROM address (without <>), the RCPT TO
 * addresses (without <>, joined by ","), and the data (CRLF line ends, the
 * final "." excluded), each copied into its buffer (a NULL buffer is
 * skipped). 1 when message i exists, else 0. */
int fsmtp_message(fake_smtp *s, int i, char *from, size_t from_n, char *rcpts, size_t rcpts_n, char *data,
                  size_t data_n);
/* SMTP sessions (connections) accepted so far. */
int fsmtp_connections(fake_smtp *s);

#endif
