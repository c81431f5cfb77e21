/*
 * An error that names the problem: a negative errno for the caller's control
 * flow and a message for the person. Shared by host and guest code; the
 * message is what the agent sends back in an error reply and what `husk`
 * prints.
 */
#ifndef HUSK_ERROR_H
#define HUSK_ERROR_H

#define HUSK_ERR_MSG_MAX 256

struct husk_err {
	int code;		     /* positive errno, 0 when no error */
	char msg[HUSK_ERR_MSG_MAX]; /* one line, no trailing newline */
};

/* Record an error (the first one wins: it is the most specific); returns -code. */
int husk_err_set(struct husk_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the recorded message with context ("create c1: " + msg); returns -code. */
int husk_err_wrap(struct husk_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
